"""Natural-language instructions of every task, and which ones experts may see.

Each task has six paraphrases. For held-in tasks the first ``TRAIN_PARAPHRASES`` are the
ones experts train on; the rest are kept for held-in evaluation (no expert saw them).
Held-out tasks use all of theirs for evaluation. Tasks of one family share an answer
format, so their paraphrases differ in the property they ask about (kind, colour, size,
...), which a sentence embedder separates.
"""

from __future__ import annotations

TRAIN_PARAPHRASES = 4

PARAPHRASES: dict[str, tuple[str, ...]] = {
    # ---- thing family (held-in): which feature of the one entity
    "thing_kind": (
        "What kind of thing is this: an animal, a plant, a tool or a mineral?",
        "Classify this thing into its category: animal, plant, tool or mineral.",
        "Which category does the thing named by the word belong to?",
        "Tell me what kind of thing this is, choosing animal, plant, tool or mineral.",
        "Name the category this thing falls into: animal, plant, tool or mineral.",
        "What kind of thing does the word refer to: animal, plant, tool or mineral?",
    ),
    "thing_color": (
        "What color is this thing: red, blue, green or yellow?",
        "Name the colour of the object.",
        "Which color does the thing have? Choose red, blue, green or yellow.",
        "Tell me the color of what the word names.",
        "What is the colour of this item: red, blue, green or yellow?",
        "Say which color the thing has.",
    ),
    "thing_size": (
        "How big is this thing: tiny, small, large or huge?",
        "Tell me the size of the thing: tiny, small, large or huge.",
        "Which size does this thing have? Choose tiny, small, large or huge.",
        "Estimate how large the thing named by the word is.",
        "What is the size of this item: tiny, small, large or huge?",
        "Say how big the thing is.",
    ),
    "thing_origin": (
        "Where does this thing come from: north, south, east or west?",
        "Name its region of origin: the north, the south, the east or the west.",
        "From which direction does this thing come?",
        "Tell me the region this thing is from.",
        "Which region is this thing from: north, south, east or west?",
        "Say where the thing originally comes from.",
    ),
    # ---- check family (held-in): a yes/no property of the one entity
    "check_alive": (
        "Is this thing alive? Answer yes or no.",
        "Is the thing a living being, an animal or a plant?",
        "Answer yes or no: does the word name something living?",
        "Tell me whether this thing is alive or lifeless.",
        "Is it a living thing? Reply yes or no.",
        "Does this thing live, like an animal or a plant does?",
    ),
    "check_big": (
        "Is this thing big? Answer yes or no.",
        "Answer yes or no: is the thing large or huge?",
        "Is the thing named by the word of a big size?",
        "Tell me whether this thing is big rather than small.",
        "Would you call this thing big? Reply yes or no.",
        "Is it a large object, yes or no?",
    ),
    "check_red": (
        "Is this thing red? Answer yes or no.",
        "Answer yes or no: is the color of the thing red?",
        "Is the thing named by the word colored red?",
        "Tell me whether this thing has a red color.",
        "Is it red? Reply yes or no.",
        "Does this thing have the colour red?",
    ),
    "check_north": (
        "Does this thing come from the north? Answer yes or no.",
        "Answer yes or no: is the north where the thing comes from?",
        "Is the thing named by the word from the northern region?",
        "Tell me whether this thing originates in the north.",
        "Is it from the north? Reply yes or no.",
        "Was this thing brought here from the north?",
    ),
    # ---- pair family (held-in): a feature of the first or the second entity
    "pair_first_kind": (
        "What kind of thing is the first one: animal, plant, tool or mineral?",
        "Classify the first of the two things into its category.",
        "Which category does the first word belong to: animal, plant, tool or mineral?",
        "Tell me the kind of the first thing, not the second.",
        "Name the category of the first item: animal, plant, tool or mineral.",
        "Of the two, what kind of thing is the first?",
    ),
    "pair_second_color": (
        "What color is the second thing: red, blue, green or yellow?",
        "Name the colour of the second of the two objects.",
        "Which color does the second word's thing have?",
        "Tell me the color of the second thing, not the first.",
        "What is the colour of the second item: red, blue, green or yellow?",
        "Of the two, which color is the second one?",
    ),
    "pair_first_big": (
        "Is the first thing big? Answer yes or no.",
        "Answer yes or no: is the first of the two things large or huge?",
        "Is the first word's thing of a big size?",
        "Tell me whether the first thing, not the second, is big.",
        "Would you call the first item big? Reply yes or no.",
        "Of the two, is the first one large?",
    ),
    "pair_second_alive": (
        "Is the second thing alive? Answer yes or no.",
        "Answer yes or no: is the second of the two things a living being?",
        "Does the second word name something living, an animal or a plant?",
        "Tell me whether the second thing, not the first, is alive.",
        "Is the second item a living thing? Reply yes or no.",
        "Of the two, does the second one live?",
    ),
    # ---- list family (held-in): name a feature of one of three entities (exact match)
    "list_first_kind": (
        "Name the kind of the first item in the list.",
        "What kind of thing is the first of the three? Give the category.",
        "Give the category of the first thing listed: animal, plant, tool or mineral.",
        "Write the kind of the item that comes first.",
        "Which kind is the first of these three things? Answer with the category.",
        "Tell me the category of the first item among the three.",
    ),
    "list_first_color": (
        "Name the color of the first item in the list.",
        "What color is the first of the three things? Give the colour.",
        "Give the color of the first thing listed: red, blue, green or yellow.",
        "Write the colour of the item that comes first.",
        "Which color is the first of these three things? Answer with the color.",
        "Tell me the colour of the first item among the three.",
    ),
    "list_first_size": (
        "Name the size of the first item in the list.",
        "How big is the first of the three things? Give the size.",
        "Give the size of the first thing listed: tiny, small, large or huge.",
        "Write the size of the item that comes first.",
        "What size is the first of these three things? Answer with the size.",
        "Tell me how large the first item among the three is.",
    ),
    "list_first_origin": (
        "Name the region the first item in the list comes from.",
        "Where does the first of the three things come from? Give the direction.",
        "Give the origin of the first thing listed: north, south, east or west.",
        "Write the region of the item that comes first.",
        "From which region is the first of these three things? Answer with the direction.",
        "Tell me where the first item among the three is from.",
    ),
    # ---- held-out tasks (all paraphrases are used for evaluation)
    "check_big_animal": (
        "Is this thing a big animal?",
        "Answer yes or no: is it an animal of large size?",
        "Is the word the name of a large animal?",
        "Would you call this a big animal?",
        "Is it both an animal and big?",
        "Tell me whether this is a large animal.",
    ),
    "check_blue": (
        "Is this thing blue? Answer yes or no.",
        "Answer yes or no: is the colour of the thing blue?",
        "Is the thing named by the word colored blue?",
        "Tell me whether this thing is blue.",
        "Is it blue? Reply yes or no.",
        "Does this thing have a blue color?",
    ),
    "pair_second_kind": (
        "What kind of thing is the second one: animal, plant, tool or mineral?",
        "Classify the second of the two things into its category.",
        "Which category does the second word belong to?",
        "Tell me the kind of the second thing, not the first.",
        "Name the category of the second item: animal, plant, tool or mineral.",
        "Of the two, what kind of thing is the second?",
    ),
    "pair_first_color": (
        "What color is the first thing: red, blue, green or yellow?",
        "Name the colour of the first of the two objects.",
        "Which color does the first word's thing have?",
        "Tell me the color of the first thing, not the second.",
        "What is the colour of the first item: red, blue, green or yellow?",
        "Of the two, which color is the first one?",
    ),
    "pair_both_big": (
        "Are both things big? Answer yes or no.",
        "Answer yes or no: are the first and the second thing both large?",
        "Is each of the two things of a big size?",
        "Tell me whether both of them are big.",
        "Are the two items both large or huge?",
        "Would you call both things big? Reply yes or no.",
    ),
    "list_second_color": (
        "Name the color of the second item in the list.",
        "What color is the second of the three things?",
        "Give the colour of the second thing listed.",
        "Write the color of the item that comes second.",
        "Which color is the middle one of these three things?",
        "Tell me the colour of the second item among the three.",
    ),
}


def train_paraphrases(task: str) -> tuple[str, ...]:
    """Paraphrases an expert of ``task`` trains on."""
    return PARAPHRASES[task][:TRAIN_PARAPHRASES]


def eval_paraphrases(task: str, heldout: bool) -> tuple[str, ...]:
    """Paraphrases used to evaluate ``task``: unseen ones for held-in, all for held-out."""
    return PARAPHRASES[task] if heldout else PARAPHRASES[task][TRAIN_PARAPHRASES:]
