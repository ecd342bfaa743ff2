"""The T0 tasks of the GLIDER / Phatgoose runs: 35 held-in P3 datasets and 11 held-out evaluations.

Prompts are promptsource's templates, selected per dataset as the original GLIDER code's P3
dataset configs do (``src/dataloaders/constants.py``): training uses every template of the
dataset minus its ignore list; evaluation uses the dataset's original-task templates (or the
listed ones) minus its ignore list, in round robin for held-in tasks (row i gets template
i mod T) and all of them on every row for held-out tasks. Held-in tasks are evaluated on the
first 80 % of their eval split (the original's test part with ``val_fraction=0.2``), held-out
tasks on all of it. Metrics: accuracy (rank classification), ``squad`` (extractive QA) and
ROUGE-L (generation), scored against the dataset's own answers as the original does.

Task names are the keys of the published instruction files (``p3agnews``, ``p3hswag`` ...).
Hub ids are the current homes of the original datasets (or the original's own mirrors,
``MoE-UNC/*``); ``task.hub_overrides`` changes them. ``docs/real-benchmarks.md`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glider.data.promptsource_templates import PromptTemplate, References, select_templates
from glider.data.raw_task import RawTask, Rendered, Template, find_label

RC, SQUAD, RL = "rank_classification", "squad", "rouge_l"
BLEU_RL = "bleu_rouge_l"  # the original's ["bleu", "rouge"]: the mean of corpus BLEU and ROUGE-L


def answer_texts(row: dict[str, Any], target: str) -> tuple[str, ...]:
    """SQuAD-style ``answers {text}`` (ropes, quoref, adversarial_qa)."""
    return tuple(row["answers"]["text"])


def duorc_answers(row: dict[str, Any], target: str) -> tuple[str, ...]:
    """duorc: the answers, or for an unanswerable question the no-answer text its template renders."""
    return (target,) if row["no_answer"] else tuple(row["answers"])


def field_answer(name: str) -> References:
    """The reference is one field of the row (a summary, a description ...)."""
    return lambda row, target: (str(row[name]),)


@dataclass(frozen=True)
class P3Prompts:
    """A dataset's promptsource templates for training and for evaluation (the original's P3 configs)."""

    dataset: str
    subset: str | None = None
    train_include: str = "all"
    train_ignore: tuple[str, ...] = ()
    eval_include: str | tuple[str, ...] = "original"
    eval_ignore: tuple[str, ...] = ()
    round_robin: bool = True
    references: References | None = field(default=None, compare=False)
    renames: tuple[tuple[str, str], ...] = ()  # row field renames before templating (wiki_hop: query -> question)

    def train(self, task: str) -> list[Template]:
        return self._wrap(task, select_templates(self.dataset, self.subset, self.train_include, self.train_ignore))

    def eval(self, task: str) -> list[Template]:
        return self._wrap(task, select_templates(self.dataset, self.subset, self.eval_include, self.eval_ignore))

    def _wrap(self, task: str, templates: list[Any]) -> list[Template]:
        wrapped = [PromptTemplate(t, task, self.references) for t in templates]
        return [RenamedFields(w, self.renames) for w in wrapped] if self.renames else list(wrapped)


@dataclass(frozen=True)
class RenamedFields:
    """A template applied to a row whose fields are renamed first."""

    template: Template
    renames: tuple[tuple[str, str], ...]

    def __call__(self, row: dict[str, Any]) -> Rendered | None:
        row = dict(row)
        for old, new in self.renames:
            if old in row and new not in row:
                row[new] = row.pop(old)
        return self.template(row)


TREC_FINE_LABELS = (
    "Abbreviation.", "Expression abbreviated.", "Animal.", "Organ of body.", "Color.", "Invention, book and other creative piece.",
    "Currency name.", "Disease and medicine.", "Event.", "Food.", "Musical instrument.", "Language.", "Letter like a-z.",
    "Other entity.", "Plant.", "Product.", "Religion.", "Sport.", "Element and substance.", "Symbols and sign.",
    "Techniques and method.", "Equivalent term.", "Vehicle.", "Word with a special property.", "Definition of something.",
    "Description of something.", "Manner of an action.", "Reason.", "Group or organization of persons", "Individual.",
    "Title of a person.", "Description of a person.", "City.", "Country.", "Mountain.", "Other location.", "State.",
    "Postcode or other code.", "Number of something.", "Date.", "Distance, linear measure.", "Price.", "Order, rank.",
    "Other number.", "Lasting time of something.", "Percent, fraction.", "Speed.", "Temperature.", "Size, area and volume.",
    "Weight.",
)


def trec_fine(row: dict[str, Any]) -> Rendered | None:
    """The original's own trec prompt (promptsource's trec templates read fields today's trec lacks): the 50 fine
    classes, listed in the prompt as a Python list, rank-classified."""
    label = row["fine_label"]
    source = f"Question: {row['text']}\nAnswer choices: {list(TREC_FINE_LABELS)}\nAnswer:"
    target = TREC_FINE_LABELS[int(label)]
    return Rendered(source=source, target=target, choices=TREC_FINE_LABELS, label=find_label(target, TREC_FINE_LABELS))


@dataclass(frozen=True)
class TrecPrompts:
    """p3trec: one template, for training and evaluation (as the original)."""

    round_robin: bool = True

    def train(self, task: str) -> list[Template]:
        return [trec_fine]

    def eval(self, task: str) -> list[Template]:
        return [trec_fine]


def _heldin(name: str, hub_id: str, prompts: Any, metric: str = RC, config: str | None = None, n: int = 0, schema: str = "",
            eval_splits: tuple[str, ...] = ("validation",), max_new_tokens: int = 0, carve: int = 0) -> RawTask:
    return RawTask(name=name, hub_id=hub_id, hub_config=config, prompts=prompts, metric=metric, split="heldin", family="t0",
                   num_choices=n, schema=schema, eval_splits=eval_splits, val_fraction=0.2, carve_eval_rows=carve,
                   max_new_tokens=max_new_tokens)


def _heldout(name: str, hub_id: str, prompts: P3Prompts, n: int, config: str | None = None, schema: str = "",
             train_split: str | None = "train", eval_splits: tuple[str, ...] = ("validation",)) -> RawTask:
    return RawTask(name=name, hub_id=hub_id, hub_config=config, prompts=prompts, metric=RC, split="heldout", family="t0",
                   num_choices=n, schema=schema, train_split=train_split, eval_splits=eval_splits)


WIKIQA_IGNORE = ("Direct Answer to Question", "Generate Question from Topic", "Jeopardy style", "Topic Prediction - Answer Only",
                 "Topic Prediction - Question Only", "Topic Prediction - Question and Answer Pair")
COPA_EVAL_IGNORE = ("\u2026which may be caused by", "\u2026What could happen next, C1 or C2?", "\u2026As a result, C1 or C2?",
                    "\u2026why? C1 or C2")


def _held_out_prompts(dataset: str, subset: str | None = None, train_include: str = "all", eval_ignore: tuple[str, ...] = ()) -> P3Prompts:
    return P3Prompts(dataset, subset, train_include=train_include, eval_ignore=eval_ignore, round_robin=False)


T0_HELDIN: list[RawTask] = [
    _heldin("p3socialiqa", "allenai/social_i_qa", P3Prompts("social_i_qa", eval_ignore=("Check if a random answer is valid or not",)),
            n=3, schema="context, question, answerA, answerB, answerC, label ('1'..'3')"),
    _heldin("p3wiqa", "allenai/wiqa", P3Prompts("wiqa"), n=3,
            schema="question_stem, question_para_step (list), answer_label, answer_label_as_choice, choices, metadata_question_type"),
    _heldin("p3cosmosqa", "allenai/cosmos_qa", P3Prompts("cosmos_qa"), n=4, schema="context, question, answer0..answer3, label"),
    _heldin("p3quail", "textmachinelab/quail", P3Prompts("quail"), n=4, schema="context, question, answers (list), correct_answer_id"),
    _heldin("p3quartz", "allenai/quartz", P3Prompts("quartz"), n=2, schema="question, para, choices {text, label}, answerKey"),
    _heldin("p3qasc", "allenai/qasc", P3Prompts("qasc"), n=8, schema="question, fact1, fact2, combinedfact, choices {text, label}, answerKey"),
    _heldin("p3commonsenseqa", "tau/commonsense_qa", P3Prompts("commonsense_qa"), n=5, schema="question, choices {text, label}, answerKey"),
    _heldin("p3quarel", "allenai/quarel", P3Prompts("quarel", eval_include="all"), n=2,
            schema="question, answer_index, world_literals {world1, world2}"),
    _heldin("p3dream", "dataset-org/dream", P3Prompts("dream"), n=3, schema="dialogue (list), question, choice (list), answer"),
    _heldin("p3sciq", "allenai/sciq", P3Prompts("sciq"), n=4, schema="question, support, correct_answer, distractor1..distractor3"),
    _heldin("p3wikihop", "MoE-UNC/wikihop", P3Prompts("wiki_hop", "original", renames=(("query", "question"),)),
            schema="query (renamed question), candidates, answer, supports"),
    _heldin("p3ropes", "allenai/ropes", P3Prompts("ropes", references=answer_texts), SQUAD,
            schema="background, situation, question, answers {text}", max_new_tokens=16),
    _heldin("p3adversarialqa", "UCLNLP/adversarial_qa", P3Prompts("adversarial_qa", "adversarialQA", references=answer_texts), SQUAD,
            config="adversarialQA", schema="context, question, answers {text}, metadata", max_new_tokens=128),
    _heldin("p3duorc", "ibm/duorc", P3Prompts("duorc", "ParaphraseRC", references=duorc_answers), SQUAD, config="ParaphraseRC",
            schema="title, plot, question, answers (list), no_answer", max_new_tokens=64),
    _heldin("p3quoref", "allenai/quoref", P3Prompts("quoref", references=answer_texts), SQUAD,
            schema="context, question, title, answers {text}", max_new_tokens=32),
    _heldin("p3hotpotqa", "hotpotqa/hotpot_qa", P3Prompts("hotpot_qa", "fullwiki", references=field_answer("answer")), RL,
            config="fullwiki", schema="question, answer, context, supporting_facts, type", max_new_tokens=64),
    _heldin("p3wikiqa", "microsoft/wiki_qa", P3Prompts("wiki_qa", train_ignore=WIKIQA_IGNORE, eval_ignore=WIKIQA_IGNORE), n=2,
            schema="question, answer, document_title, label (0/1)"),
    _heldin("p3amazonpolarity", "fancyzhx/amazon_polarity", P3Prompts("amazon_polarity"), n=2, schema="title, content, label",
            eval_splits=("test",)),
    _heldin("p3appreviews", "sealuzh/app_reviews", P3Prompts("app_reviews", eval_include="all",
            eval_ignore=("generate_review", "convert_to_rating", "convert_to_star_rating")), n=5,
            schema="package_name, review, star (1..5)", eval_splits=(), carve=10000),
    _heldin("p3rottentomatoes", "cornell-movie-review-data/rotten_tomatoes", P3Prompts("rotten_tomatoes"), n=2, schema="text, label"),
    _heldin("p3imdb", "stanfordnlp/imdb", P3Prompts("imdb"), n=2, schema="text, label", eval_splits=("test",)),
    _heldin("p3yelp", "Yelp/yelp_review_full", P3Prompts("yelp_review_full"), n=5, schema="text, label (0..4)", eval_splits=("test",)),
    _heldin("p3agnews", "fancyzhx/ag_news", P3Prompts("ag_news"), n=4, schema="text, label (0..3)", eval_splits=("test",)),
    _heldin("p3dbpedia14", "fancyzhx/dbpedia_14", P3Prompts("dbpedia_14"), n=14, schema="title, content, label (0..13)",
            eval_splits=("test",)),
    _heldin("p3trec", "CogComp/trec", TrecPrompts(), n=50, schema="text, fine_label (0..49)", eval_splits=("test",)),
    _heldin("p3wikibio", "michaelauli/wiki_bio", P3Prompts("wiki_bio", references=field_answer("target_text")), BLEU_RL,
            schema="input_text {table {column_header, content}, context}, target_text", eval_splits=("val",), max_new_tokens=256),
    _heldin("p3commongen", "allenai/common_gen", P3Prompts("common_gen", references=field_answer("target")), BLEU_RL,
            schema="concepts (list), target", max_new_tokens=64),
    _heldin("p3cnndailymail", "abisee/cnn_dailymail", P3Prompts("cnn_dailymail", "3.0.0", references=field_answer("highlights")), BLEU_RL,
            config="3.0.0", schema="article, highlights", max_new_tokens=128),
    _heldin("p3multinews", "alexfabbri/multi_news", P3Prompts("multi_news", references=field_answer("summary")), BLEU_RL,
            schema="document, summary", max_new_tokens=256),
    _heldin("p3gigaword", "Harvard/gigaword", P3Prompts("gigaword", references=field_answer("summary")), BLEU_RL,
            schema="document, summary", max_new_tokens=128),
    _heldin("p3samsum", "Samsung/samsum", P3Prompts("samsum", references=field_answer("summary")), RL,
            schema="dialogue, summary", max_new_tokens=128),
    _heldin("p3xsum", "EdinburghNLP/xsum", P3Prompts("xsum", references=field_answer("summary")), BLEU_RL,
            schema="document, summary", max_new_tokens=256),
    _heldin("p3paws", "google-research-datasets/paws", P3Prompts("paws", "labeled_final", train_ignore=("paraphrase-task",),
            eval_ignore=("paraphrase-task",)), n=2, config="labeled_final", schema="sentence1, sentence2, label"),
    _heldin("p3qqp", "nyu-mll/glue", P3Prompts("glue", "qqp"), n=2, config="qqp", schema="question1, question2, label"),
    _heldin("p3mrpc", "nyu-mll/glue", P3Prompts("glue", "mrpc"), n=2, config="mrpc", schema="sentence1, sentence2, label"),
]

T0_HELDOUT: list[RawTask] = [
    _heldout("p3hswag", "Rowan/hellaswag", _held_out_prompts("hellaswag"), 4,
             schema="ctx, ctx_a, ctx_b, activity_label, endings (4), label ('0'..'3')"),
    _heldout("p3copa", "aps/super_glue", _held_out_prompts("super_glue", "copa", eval_ignore=COPA_EVAL_IGNORE), 2, config="copa",
             schema="premise, choice1, choice2, question (cause|effect), label"),
    _heldout("p3storycloze", "MoE-UNC/story_cloze", _held_out_prompts("story_cloze", "2016"), 2, train_split=None,
             eval_splits=("test",),
             schema="input_sentence_1..input_sentence_4, sentence_quiz1, sentence_quiz2, answer_right_ending (1|2)"),
    _heldout("p3cb", "aps/super_glue", _held_out_prompts("super_glue", "cb"), 3, config="cb", schema="premise, hypothesis, label (0..2)"),
    _heldout("p3rte", "aps/super_glue", _held_out_prompts("super_glue", "rte"), 2, config="rte", schema="premise, hypothesis, label (0/1)"),
    _heldout("p3anlir1", "facebook/anli", _held_out_prompts("anli", train_include="original"), 3, train_split="train_r1",
             eval_splits=("dev_r1",), schema="premise, hypothesis, label (0 e, 1 n, 2 c); splits train_r1 / dev_r1"),
    _heldout("p3anlir2", "facebook/anli", _held_out_prompts("anli", train_include="original"), 3, train_split="train_r2",
             eval_splits=("dev_r2",), schema="premise, hypothesis, label; splits train_r2 / dev_r2"),
    _heldout("p3anlir3", "facebook/anli", _held_out_prompts("anli", train_include="original"), 3, train_split="train_r3",
             eval_splits=("dev_r3",), schema="premise, hypothesis, label; splits train_r3 / dev_r3"),
    _heldout("p3winogrande", "allenai/winogrande", _held_out_prompts("winogrande", "winogrande_xl"), 2, config="winogrande_xl",
             schema="sentence (with _), option1, option2, answer ('1'|'2')"),
    _heldout("p3wscfixed", "aps/super_glue", _held_out_prompts("super_glue", "wsc.fixed"), 2, config="wsc.fixed",
             schema="text, span1_text, span2_text, span2_index, label"),
    _heldout("p3wic", "aps/super_glue", _held_out_prompts("super_glue", "wic"), 2, config="wic",
             schema="word, sentence1, sentence2, label"),
]
