"""BIG-bench Hard and BIG-bench Lite as the original GLIDER code evaluates them (its ``BB_DATASET_CONFIGS``).

Keys are those of ``bb_instruction.json`` (``bb`` + the lower-case alphanumerics of the BBH
task name). The paper's lists are the original's ``BIGBENCH_HARD_TASKS`` (22 keys: all BBH
keys but ``bbdycklanguages``) and ``BIGBENCH_LITE_TASKS`` (17 keys; ``bbformalfallacies`` and
``bblogicaldeduction`` are in both). Sources: 19 BBH keys and every BBL key read the full
BIG-bench task from ``tasksource/bigbench`` (its ``train`` and ``validation`` splits
concatenated, the original's ``train_validation``), ``boolean_expressions``, ``web_of_lies``
and ``multistep_arithmetic_two`` read BBH's own rows (``lukaemon/bbh``, split ``test``).
Inputs get ``"\\nAnswer:"`` appended. Metrics: ``accuracy`` = rank classification with
length normalisation over the row's ``multiple_choice_targets`` (or the fixed choices of the
two BBH rank tasks); ``accuracy_multiple_ans`` also counts every choice whose
``multiple_choice_scores`` is 1; ``exact_match`` (strict) against ``targets[0]``;
``exact_match_multiple_ans`` against any target; ``rouge`` = ROUGE-L against ``targets[0]``.
"""

from __future__ import annotations

from dataclasses import dataclass

TASKSOURCE = "tasksource/bigbench"
BBH_HUB = "lukaemon/bbh"
RC, EM, RL = "rank_classification", "exact_match", "rouge_l"


@dataclass(frozen=True)
class BigBenchTask:
    """One BIG-bench key: where its rows come from and how it is scored."""

    key: str
    config: str  # the hub config: the BIG-bench task name (tasksource) or the BBH subtask (lukaemon/bbh)
    metric: str = RC
    multi: bool = False  # several right answers (accuracy_multiple_ans / exact_match_multiple_ans)
    hub_id: str = TASKSOURCE
    answer_choices: tuple[str, ...] = ()  # fixed choices (the two rank-classified lukaemon/bbh tasks)
    max_new_tokens: int = 0  # the original's max_gen_length

    @property
    def split(self) -> str:
        return "train_validation" if self.hub_id == TASKSOURCE else "test"


def _bbh(key: str, config: str, metric: str = RC, **kw) -> BigBenchTask:
    return BigBenchTask(key, config, metric, **kw)


BIGBENCH_TASKS: dict[str, BigBenchTask] = {t.key: t for t in [
    _bbh("bbbooleanexpressions", "boolean_expressions", hub_id=BBH_HUB, answer_choices=("True", "False")),
    _bbh("bbcausaljudgement", "causal_judgment"),
    _bbh("bbdateunderstanding", "date_understanding"),
    _bbh("bbdisambiguationqa", "disambiguation_qa"),
    _bbh("bbdycklanguages", "dyck_languages"),
    _bbh("bbformalfallacies", "formal_fallacies_syllogisms_negation"),
    _bbh("bbgeometricshapes", "geometric_shapes", multi=True),
    _bbh("bbhyperbaton", "hyperbaton"),
    _bbh("bblogicaldeduction", "logical_deduction"),
    _bbh("bbmovierecommendation", "movie_recommendation"),
    _bbh("bbmultisteparithmetictwo", "multistep_arithmetic_two", EM, hub_id=BBH_HUB, max_new_tokens=8),
    _bbh("bbnavigate", "navigate"),
    _bbh("bbobjectcounting", "object_counting", EM, multi=True, max_new_tokens=8),
    _bbh("bbpenguinsinatable", "penguins_in_a_table"),
    _bbh("bbreasoningaboutcoloredobjects", "reasoning_about_colored_objects", multi=True),
    _bbh("bbruinnames", "ruin_names"),
    _bbh("bbsalienttranslationerrordetection", "salient_translation_error_detection"),
    _bbh("bbsnarks", "snarks"),
    _bbh("bbsportsunderstanding", "sports_understanding"),
    _bbh("bbtemporalsequences", "temporal_sequences"),
    _bbh("bbtrackingshuffledobjects", "tracking_shuffled_objects"),
    _bbh("bbweboflies", "web_of_lies", hub_id=BBH_HUB, answer_choices=("Yes", "No")),
    _bbh("bbwordsorting", "word_sorting", EM, max_new_tokens=128),
    _bbh("bbautodebugging", "auto_debugging", EM, multi=True, max_new_tokens=32),
    _bbh("bbbbqlitejson", "bbq_lite_json"),
    _bbh("bbcodelinedescription", "code_line_description"),
    _bbh("bbconceptualcombinations", "conceptual_combinations"),
    _bbh("bbconlangtranslation", "conlang_translation", RL, max_new_tokens=64),
    _bbh("bbemojimovie", "emoji_movie"),
    _bbh("bbhinduknowledge", "hindu_knowledge"),
    _bbh("bbknownunknowns", "known_unknowns"),
    _bbh("bblanguageidentification", "language_identification"),
    _bbh("bblinguisticspuzzles", "linguistics_puzzles", EM, max_new_tokens=128),
    _bbh("bblogicgridpuzzle", "logic_grid_puzzle"),
    _bbh("bbmisconceptionsrussian", "misconceptions_russian"),
    _bbh("bbnovelconcepts", "novel_concepts", multi=True),
    _bbh("bboperators", "operators", EM, max_new_tokens=4),
    _bbh("bbparsinlureadingcomprehension", "parsinlu_reading_comprehension", EM, multi=True, max_new_tokens=128),
    _bbh("bbplaydialogsameordifferent", "play_dialog_same_or_different"),
    _bbh("bbrepeatcopylogic", "repeat_copy_logic", EM, max_new_tokens=64),
    _bbh("bbstrangestories", "strange_stories"),
    _bbh("bbstrategyqa", "strategyqa"),
    _bbh("bbsymbolinterpretation", "symbol_interpretation"),
    _bbh("bbvitamincfactverification", "vitaminc_fact_verification"),
    _bbh("bbwinowhy", "winowhy"),
]}

# The original's BIGBENCH_HARD_TASKS (bbdycklanguages commented out there) and BIGBENCH_LITE_TASKS.
BBH_TASKS: list[str] = [
    "bbbooleanexpressions", "bbcausaljudgement", "bbdateunderstanding", "bbdisambiguationqa", "bbformalfallacies",
    "bbgeometricshapes", "bbhyperbaton", "bblogicaldeduction", "bbmovierecommendation", "bbmultisteparithmetictwo",
    "bbnavigate", "bbobjectcounting", "bbpenguinsinatable", "bbreasoningaboutcoloredobjects", "bbruinnames",
    "bbsalienttranslationerrordetection", "bbsnarks", "bbsportsunderstanding", "bbtemporalsequences",
    "bbtrackingshuffledobjects", "bbweboflies", "bbwordsorting",
]
BBL_TASKS: list[str] = [
    "bbbbqlitejson", "bbconceptualcombinations", "bbconlangtranslation", "bbformalfallacies", "bbhinduknowledge",
    "bbknownunknowns", "bblinguisticspuzzles", "bblogicgridpuzzle", "bblogicaldeduction", "bbnovelconcepts", "bboperators",
    "bbplaydialogsameordifferent", "bbrepeatcopylogic", "bbstrangestories", "bbstrategyqa", "bbvitamincfactverification",
    "bbwinowhy",
]
# Further keys the original configures but leaves out of the paper's lists (selectable with task.tasks).
BBH_EXTRA: list[str] = ["bbdycklanguages"]
BBL_EXTRA: list[str] = ["bbautodebugging", "bbcodelinedescription", "bbemojimovie", "bblanguageidentification",
                        "bbmisconceptionsrussian", "bbparsinlureadingcomprehension", "bbsymbolinterpretation"]
