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
        "What kind of thing does this word name: an animal, a plant, a tool or a mineral?",
        "Classify the thing this word names into its category: animal, plant, tool or mineral.",
        "Which category does the thing named by this single word belong to?",
        "Here is one word; tell me what kind of thing it is, choosing animal, plant, tool or mineral.",
        "Name the category this word's thing falls into: animal, plant, tool or mineral.",
        "Given just this word, what kind of thing does it refer to?",
    ),
    "thing_color": (
        "What color is the thing this word names: red, blue, green or yellow?",
        "Name the colour of the object this word stands for.",
        "Which color does the thing named by this single word have? Choose red, blue, green or yellow.",
        "Here is one word; tell me the color of what it names.",
        "What is the colour of this word's thing: red, blue, green or yellow?",
        "Given just this word, say which color the thing has.",
    ),
    "thing_size": (
        "How big is the thing this word names: tiny, small, large or huge?",
        "Tell me the size of the thing this word stands for: tiny, small, large or huge.",
        "Which size does the thing named by this single word have? Choose tiny, small, large or huge.",
        "Here is one word; estimate how large the thing it names is.",
        "What is the size of this word's thing: tiny, small, large or huge?",
        "Given just this word, say how big the thing is.",
    ),
    "thing_origin": (
        "Where does the thing this word names come from: north, south, east or west?",
        "Name the region of origin of the thing this word stands for: the north, the south, the east or the west.",
        "From which direction does the thing named by this single word come?",
        "Here is one word; tell me the region the thing it names is from.",
        "Which region is this word's thing from: north, south, east or west?",
        "Given just this word, say where the thing originally comes from.",
    ),
    # ---- check family (held-in): a yes/no property of the one entity
    "check_alive": (
        "Check: is this thing alive? Answer yes or no.",
        "Yes or no check: is the thing a living being, an animal or a plant?",
        "Check this one thing and answer yes or no: does it name something living?",
        "Verify whether this thing is alive; reply yes or no.",
        "Check whether it is a living thing. Reply yes or no.",
        "Quick yes or no check: does this thing live, like an animal or a plant does?",
    ),
    "check_big": (
        "Check: is this thing big? Answer yes or no.",
        "Yes or no check: is the thing large or huge?",
        "Check this one thing and answer yes or no: is it of a big size?",
        "Verify whether this thing is big rather than small; reply yes or no.",
        "Check whether you would call it big. Reply yes or no.",
        "Quick yes or no check: is this a large object?",
    ),
    "check_red": (
        "Check: is this thing red? Answer yes or no.",
        "Yes or no check: is the color of the thing red?",
        "Check this one thing and answer yes or no: is it colored red?",
        "Verify whether this thing has a red color; reply yes or no.",
        "Check whether it is red. Reply yes or no.",
        "Quick yes or no check: does this thing have the colour red?",
    ),
    "check_north": (
        "Check: does this thing come from the north? Answer yes or no.",
        "Yes or no check: is the north where the thing comes from?",
        "Check this one thing and answer yes or no: is it from the northern region?",
        "Verify whether this thing originates in the north; reply yes or no.",
        "Check whether it is from the north. Reply yes or no.",
        "Quick yes or no check: was this thing brought here from the north?",
    ),
    # ---- pair family (held-in): a feature of the first or the second entity
    "pair_first_kind": (
        "Of the two things, what kind is the first one: animal, plant, tool or mineral?",
        "Classify the first of the two things into its category.",
        "In this pair, which category does the first word belong to: animal, plant, tool or mineral?",
        "Looking at the two things, tell me the kind of the first, not the second.",
        "Name the category of the first thing of the pair: animal, plant, tool or mineral.",
        "There are two things; what kind of thing is the first of the two?",
    ),
    "pair_second_color": (
        "Of the two things, what color is the second one: red, blue, green or yellow?",
        "Name the colour of the second of the two objects.",
        "In this pair, which color does the second word's thing have?",
        "Looking at the two things, tell me the color of the second, not the first.",
        "What is the colour of the second thing of the pair: red, blue, green or yellow?",
        "There are two things; which color is the second of the two?",
    ),
    "pair_first_big": (
        "Of the two things, is the first one big? Answer yes or no.",
        "Answer yes or no: is the first of the two things large or huge?",
        "In this pair, is the first word's thing of a big size?",
        "Looking at the two things, tell me whether the first, not the second, is big.",
        "Would you call the first thing of the pair big? Reply yes or no.",
        "There are two things; is the first of the two large?",
    ),
    "pair_second_alive": (
        "Of the two things, is the second one alive? Answer yes or no.",
        "Answer yes or no: is the second of the two things a living being?",
        "In this pair, does the second word name something living, an animal or a plant?",
        "Looking at the two things, tell me whether the second, not the first, is alive.",
        "Is the second thing of the pair a living thing? Reply yes or no.",
        "There are two things; does the second of the two live?",
    ),
    # ---- list family (held-in): name a feature of one of three entities (exact match)
    "list_first_kind": (
        "Name the kind of the first item in the list.",
        "In this list of three things, what kind of thing is the first? Give the category.",
        "Give the category of the first thing in the list: animal, plant, tool or mineral.",
        "From the list of three, write the kind of the item that comes first.",
        "Which kind is the first item of this list of three? Answer with the category: animal, plant, tool or mineral.",
        "Tell me the category of the first item in the list of three things.",
    ),
    "list_first_color": (
        "Name the color of the first item in the list.",
        "In this list of three things, what color is the first? Give the colour.",
        "Give the color of the first thing in the list: red, blue, green or yellow.",
        "From the list of three, write the colour of the item that comes first.",
        "Which color is the first item of this list of three? Answer with the color: red, blue, green or yellow.",
        "Tell me the colour of the first item in the list of three things.",
    ),
    "list_first_size": (
        "Name the size of the first item in the list.",
        "In this list of three things, how big is the first? Give the size.",
        "Give the size of the first thing in the list: tiny, small, large or huge.",
        "From the list of three, write the size of the item that comes first.",
        "What size is the first item of this list of three? Answer with the size: tiny, small, large or huge.",
        "Tell me how big the first item in the list of three things is.",
    ),
    "list_first_origin": (
        "Name the region the first item in the list comes from.",
        "In this list of three things, where does the first come from? Give the region.",
        "Give the region of origin of the first thing in the list: north, south, east or west.",
        "From the list of three, write the region the item that comes first is from.",
        "Which region does the first item of this list of three come from? Answer with the region: north, south, east or west.",
        "Tell me the region of origin of the first item in the list of three things.",
    ),
    # ---- held-out tasks (all paraphrases are used for evaluation)
    "check_big_animal": (
        "Check: is this thing a big animal? Answer yes or no.",
        "Yes or no check: is it an animal of large size?",
        "Check this one thing and answer yes or no: is it a large animal?",
        "Verify whether this is both an animal and big; reply yes or no.",
        "Check whether you would call it a big animal. Reply yes or no.",
        "Quick yes or no check: is this a large animal?",
    ),
    "check_blue": (
        "Check: is this thing blue? Answer yes or no.",
        "Yes or no check: is the colour of the thing blue?",
        "Check this one thing and answer yes or no: is it colored blue?",
        "Verify whether this thing is blue; reply yes or no.",
        "Check whether it is blue. Reply yes or no.",
        "Quick yes or no check: does this thing have a blue color?",
    ),
    "pair_second_kind": (
        "Of the two things, what kind is the second one: animal, plant, tool or mineral?",
        "Classify the second of the two things into its category.",
        "In this pair, which category does the second word belong to?",
        "Looking at the two things, tell me the kind of the second, not the first.",
        "Name the category of the second thing of the pair: animal, plant, tool or mineral.",
        "There are two things; what kind of thing is the second of the two?",
    ),
    "pair_first_color": (
        "Of the two things, what color is the first one: red, blue, green or yellow?",
        "Name the colour of the first of the two objects.",
        "In this pair, which color does the first word's thing have?",
        "Looking at the two things, tell me the color of the first, not the second.",
        "What is the colour of the first thing of the pair: red, blue, green or yellow?",
        "There are two things; which color is the first of the two?",
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
        "In this list of three things, what color is the second?",
        "Give the colour of the second thing in the list.",
        "From the list of three, write the color of the item that comes second.",
        "Which color is the middle item of this list of three?",
        "Tell me the colour of the second item in the list of three things.",
    ),
}


def train_paraphrases(task: str) -> tuple[str, ...]:
    """Paraphrases an expert of ``task`` trains on."""
    return PARAPHRASES[task][:TRAIN_PARAPHRASES]


def eval_paraphrases(task: str, heldout: bool) -> tuple[str, ...]:
    """Paraphrases used to evaluate ``task``: unseen ones for held-in, all for held-out."""
    return PARAPHRASES[task] if heldout else PARAPHRASES[task][TRAIN_PARAPHRASES:]
