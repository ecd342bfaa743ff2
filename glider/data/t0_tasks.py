"""The T0 tasks of the GLIDER / Phatgoose runs: 35 held-in P3 datasets and 11 held-out evaluations.

Task names are the keys of the published instruction files (``p3agnews``, ``p3hswag`` ...).
Hub ids are the current homes of the original datasets (parquet; override with
``task.hub_overrides``); the local directory of a task is ``data_dir/<task name>/``.
"""

from __future__ import annotations

from glider.data import t0_templates as T
from glider.data.raw_task import RawTask

RC, EM, F1, RL = "rank_classification", "exact_match", "f1", "rouge_l"


def _heldin(name: str, hub_id: str, template, metric: str = RC, config: str | None = None, n: int = 0, schema: str = "",
            eval_splits: tuple[str, ...] = ("validation", "test")) -> RawTask:
    return RawTask(name=name, hub_id=hub_id, hub_config=config, template=template, metric=metric, split="heldin",
                   family="t0", num_choices=n, schema=schema, eval_splits=eval_splits)


def _heldout(name: str, hub_id: str, template, n: int, config: str | None = None, schema: str = "",
             train_split: str | None = "train", eval_splits: tuple[str, ...] = ("validation",)) -> RawTask:
    return RawTask(name=name, hub_id=hub_id, hub_config=config, template=template, metric=RC, split="heldout",
                   family="t0", num_choices=n, schema=schema, train_split=train_split, eval_splits=eval_splits)


T0_HELDIN: list[RawTask] = [
    _heldin("p3socialiqa", "allenai/social_i_qa", T.socialiqa, n=3, schema="context, question, answerA, answerB, answerC, label ('1'..'3')"),
    _heldin("p3wiqa", "allenai/wiqa", T.wiqa, n=3, schema="question_stem, question_para_step (list), answer_label (more|less|no_effect)"),
    _heldin("p3cosmosqa", "allenai/cosmos_qa", T.cosmosqa, n=4, schema="context, question, answer0..answer3, label"),
    _heldin("p3quail", "textmachinelab/quail", T.quail, n=4, schema="context, question, answers (list), correct_answer_id"),
    _heldin("p3quartz", "allenai/quartz", T.quartz, n=2, schema="question, para, choices {text, label}, answerKey"),
    _heldin("p3qasc", "allenai/qasc", T.qasc, n=8, schema="question, fact1, fact2, choices {text, label}, answerKey"),
    _heldin("p3commonsenseqa", "tau/commonsense_qa", T.commonsenseqa, n=5, schema="question, choices {text, label}, answerKey"),
    _heldin("p3quarel", "allenai/quarel", T.quarel, n=2, schema="question, answer_index, world_literals {world1, world2}"),
    _heldin("p3dream", "dataset-org/dream", T.dream, n=3, schema="dialogue (list), question, choice (list), answer"),
    _heldin("p3sciq", "allenai/sciq", T.sciq, n=4, schema="question, support, correct_answer, distractor1..distractor3"),
    _heldin("p3wikihop", "community-datasets/qangaroo", T.wikihop, config="wikihop", schema="query (or question) 'relation subject', candidates, answer, supports"),
    _heldin("p3ropes", "allenai/ropes", T.ropes, F1, schema="background, situation, question, answers {text}"),
    _heldin("p3adversarialqa", "UCLNLP/adversarial_qa", T.adversarialqa, F1, config="adversarialQA", schema="context, question, answers {text}"),
    _heldin("p3duorc", "ibm/duorc", T.duorc, F1, config="SelfRC", schema="title, plot, question, answers (list), no_answer"),
    _heldin("p3quoref", "allenai/quoref", T.quoref, F1, schema="context, question, answers {text}"),
    _heldin("p3hotpotqa", "facebook/kilt_tasks", T.hotpotqa, F1, config="hotpotqa", schema="input, output [{answer}]"),
    _heldin("p3wikiqa", "microsoft/wiki_qa", T.wikiqa, n=2, schema="question, answer, label (0/1)"),
    _heldin("p3amazonpolarity", "fancyzhx/amazon_polarity", T.amazonpolarity, n=2, schema="title, content, label (0 neg, 1 pos)"),
    _heldin("p3appreviews", "sealuzh/app_reviews", T.appreviews, n=5, schema="review, star (1..5)"),
    _heldin("p3rottentomatoes", "cornell-movie-review-data/rotten_tomatoes", T.rottentomatoes, n=2, schema="text, label"),
    _heldin("p3imdb", "stanfordnlp/imdb", T.imdb, n=2, schema="text, label", eval_splits=("validation", "test")),
    _heldin("p3yelp", "Yelp/yelp_review_full", T.yelp, n=5, schema="text, label (0..4)"),
    _heldin("p3agnews", "fancyzhx/ag_news", T.agnews, n=4, schema="text, label (0 World, 1 Sports, 2 Business, 3 Sci/Tech)"),
    _heldin("p3dbpedia14", "fancyzhx/dbpedia_14", T.dbpedia14, n=14, schema="title, content, label (0..13)"),
    _heldin("p3trec", "CogComp/trec", T.trec, n=6, schema="text, coarse_label (0..5)"),
    _heldin("p3wikibio", "michaelauli/wiki_bio", T.wikibio, RL, schema="input_text {table {column_header, content}}, target_text"),
    _heldin("p3commongen", "allenai/common_gen", T.commongen, RL, schema="concepts (list), target"),
    _heldin("p3cnndailymail", "abisee/cnn_dailymail", T.cnndailymail, RL, config="3.0.0", schema="article, highlights"),
    _heldin("p3multinews", "alexfabbri/multi_news", T.multinews, RL, schema="document, summary"),
    _heldin("p3gigaword", "Harvard/gigaword", T.gigaword, RL, schema="document, summary"),
    _heldin("p3samsum", "Samsung/samsum", T.samsum, RL, schema="dialogue, summary"),
    _heldin("p3xsum", "EdinburghNLP/xsum", T.xsum, RL, schema="document, summary"),
    _heldin("p3paws", "google-research-datasets/paws", T.paws, n=2, config="labeled_final", schema="sentence1, sentence2, label"),
    _heldin("p3qqp", "nyu-mll/glue", T.qqp, n=2, config="qqp", schema="question1, question2, label"),
    _heldin("p3mrpc", "nyu-mll/glue", T.mrpc, n=2, config="mrpc", schema="sentence1, sentence2, label"),
]

T0_HELDOUT: list[RawTask] = [
    _heldout("p3hswag", "Rowan/hellaswag", T.hswag, 4, schema="ctx_a, ctx_b, endings (4), label ('0'..'3')"),
    _heldout("p3copa", "aps/super_glue", T.copa, 2, config="copa", schema="premise, choice1, choice2, question (cause|effect), label"),
    _heldout("p3storycloze", "LSDSem/story_cloze", T.storycloze, 2, config="2016", train_split=None, eval_splits=("validation", "test"),
             schema="input_sentence_1..input_sentence_4, sentence_quiz1, sentence_quiz2, answer_right_ending (1|2)"),
    _heldout("p3cb", "aps/super_glue", T.cb, 3, config="cb", schema="premise, hypothesis, label (0 entailment, 1 contradiction, 2 neutral)"),
    _heldout("p3rte", "aps/super_glue", T.rte, 2, config="rte", schema="premise, hypothesis, label (0 entailment, 1 not_entailment)"),
    _heldout("p3anlir1", "facebook/anli", T.anli, 3, train_split="train_r1", eval_splits=("dev_r1",), schema="premise, hypothesis, label (0 e, 1 n, 2 c); splits train_r1 / dev_r1"),
    _heldout("p3anlir2", "facebook/anli", T.anli, 3, train_split="train_r2", eval_splits=("dev_r2",), schema="premise, hypothesis, label; splits train_r2 / dev_r2"),
    _heldout("p3anlir3", "facebook/anli", T.anli, 3, train_split="train_r3", eval_splits=("dev_r3",), schema="premise, hypothesis, label; splits train_r3 / dev_r3"),
    _heldout("p3winogrande", "allenai/winogrande", T.winogrande, 2, config="winogrande_xl", schema="sentence (with _), option1, option2, answer ('1'|'2')"),
    _heldout("p3wscfixed", "aps/super_glue", T.wscfixed, 2, config="wsc.fixed", schema="text, span1_text, span2_text, label"),
    _heldout("p3wic", "aps/super_glue", T.wic, 2, config="wic", schema="word, sentence1, sentence2, label"),
]
