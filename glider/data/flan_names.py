"""FLAN expert task keys (``flan_instruction.json``) and the mapping from FLAN-collection task names.

The 166 keys, in the published order (the order of Phatgoose's FLAN expert library):
36 ``p3*`` (T0 submix, grouped by dataset), 36 ``flanv2*`` (FLAN 2021 submix), 75 ``niv2*``
(Natural Instructions v2 tasks grouped by *category*), and 19 more (``p3`` held-out-style
tasks, dialog, aeslc, WMT).

Rows of the FLAN collection as published on the hub (``Open-Orca/FLAN``) carry
``_task_name`` and ``_task_source``; ``flan_key`` maps them:

- T0 / P3 rows: ``_task_name`` is a P3 prompt name ``<dataset>_<subset>_<template>``; the
  longest dataset prefix in ``P3_PREFIXES`` gives the key (``ag_news_classify`` -> ``p3agnews``).
- FLAN 2021 rows: ``<dataset>[/<config>]:<version>``; the version is dropped, then
  ``FLAN2021_ALIASES`` or ``flanv2`` + the lower-case alphanumerics
  (``glue/mnli:2.0.0`` -> ``flanv2gluemnli``, ``ai2_arc/ARC-Easy:1.0.0`` -> ``flanv2ai2arceasy``).
- Dialog rows: ``flanv2`` + alphanumerics (``qrecc_ii`` -> ``flanv2qreccii``).
- NIv2 rows: ``taskNNN_<name>`` has no category in the row; a categories map
  (task name or ``taskNNN`` -> category, from the natural-instructions task files) gives
  ``niv2`` + alphanumerics of the category (``Text Categorization`` -> ``niv2textcategorization``).
- CoT rows and anything else: no key (dropped).
- A row whose ``_task_name`` already is a key maps to itself.
"""

from __future__ import annotations

import re

FLAN_TASKS: list[str] = [
    "p3agnews", "p3amazonpolarity", "p3cosmosqa", "p3samsum", "p3quartz", "p3ropes", "p3wikibio", "p3paws", "p3wikiqa",
    "p3socialiqa", "p3qasc", "p3quail", "p3dream", "p3wiqa", "p3quarel", "p3sciq", "p3quoref", "p3duorc",
    "p3rottentomatoes", "p3yelp", "p3commongen", "p3gigaword", "p3xsum", "p3mrpc", "p3qqp", "p3commonsenseqa", "p3cose",
    "p3wikihop", "p3hotpotqa", "p3appreviews", "p3trec", "p3multinews", "p3imdb", "p3adversarialqa", "p3cnndailymail",
    "p3dbpedia14",
    "flanv2ai2arceasy", "flanv2ai2arcchallenge", "flanv2algebralinear1d", "flanv2boolq", "flanv2coqa",
    "flanv2defpronounresolution", "flanv2drop", "flanv2fixpunct", "flanv2gemdart", "flanv2geme2enlg", "flanv2gemwebnlgen",
    "flanv2gemwikilinguaen", "flanv2gluesst2", "flanv2gluecola", "flanv2gluemnli", "flanv2glueqnli", "flanv2gluestsb",
    "flanv2gluewnli", "flanv2lambada", "flanv2naturalquestionsopen", "flanv2newsroom", "flanv2openbookqa",
    "flanv2opinionabstractsidebate", "flanv2opinionabstractrottentomatoes", "flanv2paracrawlenes", "flanv2piqa",
    "flanv2quac", "flanv2sentiment140", "flanv2snli", "flanv2squad", "flanv2supergluemultirc", "flanv2supergluerecord",
    "flanv2triviaqa", "flanv2truecase", "flanv2unifiedqascienceinst", "flanv2wordsegment",
    "niv2translation", "niv2programexecution", "niv2questiongeneration", "niv2sentimentanalysis", "niv2textcategorization",
    "niv2textmatching", "niv2toxiclanguagedetection", "niv2causeeffectclassification", "niv2informationextraction",
    "niv2textualentailment", "niv2wrongcandidategeneration", "niv2namedentityrecognition", "niv2commonsenseclassification",
    "niv2fillintheblank", "niv2textcompletion", "niv2sentencecomposition", "niv2titlegeneration",
    "niv2languageidentification", "niv2questionunderstanding", "niv2sentenceperturbation",
    "niv2answerabilityclassification", "niv2summarization", "niv2coreferenceresolution", "niv2textqualityevaluation",
    "niv2texttocode", "niv2paraphrasing", "niv2dialoguegeneration", "niv2questionrewriting", "niv2wordsemantics",
    "niv2postagging", "niv2linguisticprobing", "niv2storycomposition", "niv2speakeridentification", "niv2wordanalogy",
    "niv2datatotext", "niv2stereotypedetection", "niv2negotiationstrategydetection", "niv2dialogueactrecognition",
    "niv2genderclassification", "niv2coherenceclassification", "niv2explanation", "niv2ethicsclassification",
    "niv2wordrelationclassification", "niv2sentenceordering", "niv2answerverification", "niv2mathematics",
    "niv2intentidentification", "niv2keywordtagging", "niv2codetotext", "niv2dialoguestatetracking",
    "niv2textsimplification", "niv2stancedetection", "niv2factverification", "niv2grammarerrordetection",
    "niv2sectionclassification", "niv2numberconversion", "niv2styletransfer", "niv2speakerrelationclassification",
    "niv2ironydetection", "niv2questiondecomposition", "niv2overlapextraction", "niv2grammarerrorcorrection",
    "niv2spellingerrordetection", "niv2entitygeneration", "niv2sentenceexpansion", "niv2discourseconnectiveidentification",
    "niv2discourserelationclassification", "niv2poemgeneration", "niv2entityrelationclassification",
    "niv2punctuationerrordetection", "niv2spamclassification", "niv2paperreview", "niv2sentencecompression",
    "niv2prepositionprediction", "niv2misc",
    "p3wscfixed", "p3copa", "p3hswag", "p3wic", "p3racehigh", "p3racemiddle", "p3webquestions", "flanv2qrecc",
    "flanv2wikidialog", "flanv2qreccii", "flanv2wikidialogii", "flanv2aeslc", "flanv2wmt16translatecsen",
    "flanv2wmt16translatedeen", "flanv2wmt16translateruen", "flanv2wmt16translatefien", "flanv2wmt16translateroen",
    "flanv2wmt16translatetren", "flanv2wmt14translatefren",
]
FLAN_KEYS = frozenset(FLAN_TASKS)

# P3 keys for which the FLAN collection (v2) has no rows: its T0 submix drops every P3 template whose
# dataset is also in Flan 2021 (``in_flan`` in FLAN's flan/v2/constants_t0.py), and commonsense_qa has no
# T0 training template there. Their experts were trained on P3 itself; FLAN-collection data cannot feed them.
FLAN_V2_WITHOUT_ROWS: frozenset[str] = frozenset({
    "p3agnews", "p3cosmosqa", "p3samsum", "p3paws", "p3rottentomatoes", "p3yelp", "p3commongen", "p3gigaword", "p3xsum",
    "p3mrpc", "p3qqp", "p3commonsenseqa", "p3trec", "p3multinews", "p3imdb", "p3cnndailymail", "p3wscfixed", "p3copa",
    "p3hswag", "p3wic",
})

# P3 prompt-name prefix (dataset[_subset]) -> key; the longest matching prefix wins.
P3_PREFIXES: dict[str, str] = {
    "ag_news": "p3agnews", "amazon_polarity": "p3amazonpolarity", "cosmos_qa": "p3cosmosqa", "samsum": "p3samsum",
    "quartz": "p3quartz", "ropes": "p3ropes", "wiki_bio": "p3wikibio", "paws": "p3paws", "wiki_qa": "p3wikiqa",
    "social_i_qa": "p3socialiqa", "qasc": "p3qasc", "quail": "p3quail", "dream": "p3dream", "wiqa": "p3wiqa",
    "quarel": "p3quarel", "sciq": "p3sciq", "quoref": "p3quoref", "duorc": "p3duorc", "rotten_tomatoes": "p3rottentomatoes",
    "yelp_review_full": "p3yelp", "common_gen": "p3commongen", "gigaword": "p3gigaword", "xsum": "p3xsum",
    "glue_mrpc": "p3mrpc", "glue_qqp": "p3qqp", "commonsense_qa": "p3commonsenseqa", "cos_e": "p3cose",
    "wiki_hop": "p3wikihop", "kilt_tasks_hotpotqa": "p3hotpotqa", "hotpot_qa": "p3hotpotqa", "app_reviews": "p3appreviews",
    "trec": "p3trec", "multi_news": "p3multinews", "imdb": "p3imdb", "adversarial_qa": "p3adversarialqa",
    "cnn_dailymail": "p3cnndailymail", "dbpedia_14": "p3dbpedia14", "super_glue_wsc.fixed": "p3wscfixed",
    "super_glue_copa": "p3copa", "hellaswag": "p3hswag", "super_glue_wic": "p3wic", "race_high": "p3racehigh",
    "race_middle": "p3racemiddle", "web_questions": "p3webquestions",
}

# FLAN 2021 dataset names (version dropped) whose key is not flanv2 + alphanumerics.
FLAN2021_ALIASES: dict[str, str] = {
    "ai2_arc/ARC-Easy": "flanv2ai2arceasy",
    "ai2_arc/ARC-Challenge": "flanv2ai2arcchallenge",
    "math_dataset/algebra__linear_1d": "flanv2algebralinear1d",
    "definite_pronoun_resolution": "flanv2defpronounresolution",
    "gem/wiki_lingua_english_en": "flanv2gemwikilinguaen",
    "trivia_qa/rc": "flanv2triviaqa",
    "squad/v1.1": "flanv2squad",
    "opinion_abstracts_rotten_tomatoes": "flanv2opinionabstractrottentomatoes",
}

P3_SOURCES = {"p3", "t0", "t0sf", "t0_sf"}
FLAN_SOURCES = {"flan2021", "flan", "flanv1", "flan2022", "flan_2021"}
NIV2_SOURCES = {"niv2", "natinst", "natural_instructions"}
DIALOG_SOURCES = {"dialog"}


def alnum(text: str) -> str:
    """Lower-case alphanumerics only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def p3_key(task_name: str) -> str | None:
    best = ""
    for prefix in P3_PREFIXES:
        if task_name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return P3_PREFIXES[best] if best else None


def flan2021_key(task_name: str) -> str:
    base = task_name.split(":", 1)[0]
    return FLAN2021_ALIASES.get(base, "flanv2" + alnum(base))


def niv2_key(task_name: str, categories: dict[str, str] | None) -> str | None:
    if not categories:
        return None
    category = categories.get(task_name) or categories.get(task_name.split("_", 1)[0])
    return "niv2" + alnum(category) if category else None


def flan_key(task_name: str, task_source: str | None = None, categories: dict[str, str] | None = None) -> str | None:
    """The expert key of a FLAN-collection row, or None when the row belongs to no expert task."""
    name = str(task_name).strip()
    if name in FLAN_KEYS:
        return name
    source = (task_source or "").strip().lower()
    if source in P3_SOURCES:
        key = p3_key(name)
    elif source in FLAN_SOURCES:
        key = flan2021_key(name)
    elif source in NIV2_SOURCES or re.match(r"^task\d+_", name):
        key = niv2_key(name, categories)
    elif source in DIALOG_SOURCES:
        key = "flanv2" + alnum(name)
    elif source == "" and ":" in name:
        key = flan2021_key(name)
    elif source == "":
        key = p3_key(name)
    else:  # CoT and unknown submixes
        key = None
    return key if key in FLAN_KEYS else None
