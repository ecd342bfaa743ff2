"""Instructions of the mix zoo's tasks (``mix_tasks.py``).

Shared-pool tasks keep the instructions of the synthetic zoo (``paraphrases.py``). Each
own-input task has exactly the instructions of its shared-pool twin, so nothing in the
instruction tells the two apart. Held-out tasks have six new instructions each, all used
for evaluation: (a) tasks are asked in the style of the family whose form their input
has (a check, a one-word question), which draws the global router to that family's
experts; (b) tasks ask two questions about one entity, each answered "in its own words".
"""

from __future__ import annotations

from glider.data.synthetic.paraphrases import PARAPHRASES

TWINS = {"zar_kind": "thing_kind", "mip_big": "check_big", "tol_second_color": "pair_second_color"}
SHARED = (
    "thing_kind", "thing_color", "thing_size", "check_alive", "check_big", "check_red",
    "pair_first_kind", "pair_second_color", "pair_first_big",
)

HELDOUT_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "zar_kind_check": (
        "Check this one thing: is it an animal, a plant, a tool or a mineral? Reply in its own tongue.",
        "Quick check: which of animal, plant, tool or mineral is it? Answer in its own words.",
        "Check what sort of thing this is, living or not, and say it the way its own people do.",
        "Verify whether it is an animal, a plant, a tool or a mineral; reply in its own words.",
        "Check the thing and name its category in its own tongue.",
        "Check: animal, plant, tool or mineral? Reply the way its speakers would.",
    ),
    "mip_big_word": (
        "What size is the thing this word names, big or not? Answer in its own words.",
        "Here is one word; say whether the thing it names is of a big size, in its own tongue.",
        "Given just this word, tell me if the thing is large or small, the way its own people say it.",
        "Which size does the thing named by this single word have: big or not big? Reply in its own words.",
        "Estimate how large this word's thing is, big or not, and say it in its own tongue.",
        "How big is the thing this word names? Answer big or not, in the words of its speakers.",
    ),
    "zar_mip_both": (
        "What kind of thing does this word name, and is it big? Answer both in its own words.",
        "Here is one word; give the category of its thing, then say whether it is large, each in its own tongue.",
        "Two questions about this word's thing: what kind is it, and is it big? Answer each the way its own people say it.",
        "Name the kind of the thing this word stands for, then tell me if it is of a big size, in its own words.",
        "Given just this word, say what sort of thing it is and whether it is large, both in its own tongue.",
        "Answer in the thing's own words: its category, and big or not?",
    ),
    "mip_zar_both": (
        "Check: is this thing big, and what kind of thing is it? Answer both in its own words.",
        "Check this one thing: say whether it is large, then give its category, each in its own tongue.",
        "Two questions about the thing to check: is it big, and what kind is it? Answer each the way its own people say it.",
        "Verify whether the thing is of a big size, then name its kind, in its own words.",
        "Quick check: large or not, and which category? Reply in its own tongue.",
        "Answer in the thing's own words: big or not, and its category?",
    ),
}

MIX_PARAPHRASES: dict[str, tuple[str, ...]] = {
    **{name: PARAPHRASES[name] for name in SHARED},
    **{name: PARAPHRASES[twin] for name, twin in TWINS.items()},
    **HELDOUT_PARAPHRASES,
}
