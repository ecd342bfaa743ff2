"""BIG-bench Hard and BIG-bench Lite task lists and their keys (the keys of ``bb_instruction.json``).

Keys are ``bb`` + the lower-case alphanumerics of the BIG-bench task name. BBH's three
``logical_deduction_*`` and three ``tracking_shuffled_objects_*`` subtasks share one key
each (as in the instruction files), so BBH's 27 subtasks give 23 keys; the paper's runs
use 22 of them (all but ``bbdycklanguages``; the keys of ``bb_instruction-v2.json``).
BIG-bench Lite has 24 tasks; ``formal_fallacies_syllogisms_negation`` and
``logical_deduction`` overlap BBH and are left out, giving the 22 BBL keys of the files.
"""

from __future__ import annotations

import re

BBH_SUBTASKS: list[str] = [
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies", "geometric_shapes", "hyperbaton", "logical_deduction_five_objects",
    "logical_deduction_seven_objects", "logical_deduction_three_objects", "movie_recommendation",
    "multistep_arithmetic_two", "navigate", "object_counting", "penguins_in_a_table", "reasoning_about_colored_objects",
    "ruin_names", "salient_translation_error_detection", "snarks", "sports_understanding", "temporal_sequences",
    "tracking_shuffled_objects_five_objects", "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects", "web_of_lies", "word_sorting",
]

# BIG-bench Lite task -> metric (multiple-choice tasks are rank-classified over their choices).
BBL_TASKS: dict[str, str] = {
    "auto_debugging": "exact_match",
    "bbq_lite_json": "rank_classification",
    "code_line_description": "rank_classification",
    "conceptual_combinations": "rank_classification",
    "conlang_translation": "rouge_l",
    "emoji_movie": "rank_classification",
    "hindu_knowledge": "rank_classification",
    "known_unknowns": "rank_classification",
    "language_identification": "rank_classification",
    "linguistics_puzzles": "exact_match",
    "logic_grid_puzzle": "rank_classification",
    "misconceptions_russian": "rank_classification",
    "novel_concepts": "rank_classification",
    "operators": "exact_match",
    "parsinlu_reading_comprehension": "exact_match",
    "play_dialog_same_or_different": "rank_classification",
    "repeat_copy_logic": "exact_match",
    "strange_stories": "rank_classification",
    "strategyqa": "rank_classification",
    "symbol_interpretation": "rank_classification",
    "vitaminc_fact_verification": "rank_classification",
    "winowhy": "rank_classification",
}
BBL_OVERLAPPING_BBH = ("formal_fallacies_syllogisms_negation", "logical_deduction")


def bb_key(task: str) -> str:
    """``logical_deduction_five_objects`` -> ``bblogicaldeduction``; ``word_sorting`` -> ``bbwordsorting``."""
    base = re.sub(r"_(three|five|seven)_objects$", "", task)
    return "bb" + re.sub(r"[^a-z0-9]", "", base.lower())


def bbh_keys() -> dict[str, list[str]]:
    """BBH key -> its subtasks, in BBH order."""
    keys: dict[str, list[str]] = {}
    for sub in BBH_SUBTASKS:
        keys.setdefault(bb_key(sub), []).append(sub)
    return keys


BBH_PAPER_KEYS: list[str] = [k for k in bbh_keys() if k != "bbdycklanguages"]
