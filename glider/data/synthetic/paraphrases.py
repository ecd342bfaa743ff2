"""Natural-language instructions of every task, and which ones experts may see.

Each task has six paraphrases. For held-in tasks the first ``TRAIN_PARAPHRASES`` are the
ones experts train on; the rest are kept for held-in evaluation (no expert saw them).
Held-out tasks use all of theirs for evaluation. Tasks of one family share an answer
format, so their paraphrases differ in the property they ask about (kind, colour, price,
...), which a sentence embedder separates.
"""

from __future__ import annotations

TRAIN_PARAPHRASES = 4

PARAPHRASES: dict[str, tuple[str, ...]] = {
    # ---- thing family (held-in)
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
    "thing_origin": (
        "Where does this thing come from: north, south, east or west?",
        "Name its region of origin: the north, the south, the east or the west.",
        "From which direction does this thing come?",
        "Tell me the region this thing is from.",
        "Which region is this thing from: north, south, east or west?",
        "Say where the thing originally comes from.",
    ),
    "thing_alive": (
        "Is this thing alive?",
        "Is it a living thing? Answer yes or no.",
        "Does the word name something that is alive and living?",
        "Tell me whether this is a living being.",
        "Is the thing alive or not alive?",
        "Answer yes or no: is it living?",
    ),
    "thing_big": (
        "Is this thing big?",
        "Is it large in size? Answer yes or no.",
        "Would you call this thing big?",
        "Tell me whether the object is of large size.",
        "Is it a big object?",
        "Answer yes or no: is its size large?",
    ),
    "thing_price": (
        "How much does this thing cost?",
        "What is the price of the item in coins?",
        "Give the cost of this object as a number.",
        "How many coins does it cost to buy?",
        "What does this thing cost?",
        "Tell me its price in coins.",
    ),
    # ---- pair family (held-in)
    "pair_same_kind": (
        "Are the two things both animals, both plants, both tools or both minerals?",
        "Do both words name things of one category, like two animals or two tools?",
        "Check whether the two things share a category, such as both being plants.",
        "Is the first thing of the same kind as the second, for example both minerals?",
        "Do the two things fall into the same category, like both tools or both animals?",
        "Are both of them the same kind of thing, such as two plants?",
    ),
    "pair_same_color": (
        "Do these two things have the same color or different colors?",
        "Is the first thing colored like the second, for example both red?",
        "Are both items painted in one colour?",
        "Tell me whether the two share a color such as blue or green.",
        "Are the two things the same colour, like both yellow?",
        "Do both have an identical color, or different colors?",
    ),
    "pair_same_origin": (
        "Do these two things come from the same region?",
        "Is the first thing from the same direction as the second, like both from the north?",
        "Are both from one region, or from two different regions?",
        "Tell me whether the two share a place of origin.",
        "Do the two things originate in the same region, such as both in the east?",
        "Are both from the same part of the land, or from different parts?",
    ),
    "pair_bigger": (
        "Which of the two is bigger?",
        "Which one is larger in size, the first or the second?",
        "Tell me which thing has the greater size.",
        "Pick the larger of the two items.",
        "Which item is bigger, first or second?",
        "Say which of the two things is larger in size.",
    ),
    # ---- list family (held-in)
    "list_count_alive": (
        "How many of these things are alive?",
        "Count the living things in the list.",
        "How many items in the list are living beings?",
        "Give the number of living things among them.",
        "Count how many of the items are alive.",
        "What number of these things are living?",
    ),
    "list_has_red": (
        "Is any of these things red?",
        "Does the list contain a red item?",
        "Is at least one of the three red in color?",
        "Tell me whether something in the list is red.",
        "Are any of the items red?",
        "Answer yes or no: is there a red thing among them?",
    ),
    "list_cheapest": (
        "Which item in the list is the cheapest?",
        "Find the least expensive thing: first, second or third?",
        "Which of the three has the lowest price?",
        "Point to the cheapest of these items.",
        "Which one of the three costs the least?",
        "Tell me the position of the cheapest item.",
    ),
    # ---- claim family (held-in)
    "claim_true": (
        "Is this claim true or false? Answer yes if it is true and no if it is false.",
        "Tell me if the statement is true. Answer yes or no.",
        "Is what the claim says true about the thing? Answer yes or no.",
        "True or false: does the statement hold? Say yes for true, no for false.",
        "Would you say this claim is true? Answer yes or no.",
        "Is the statement true or is it false? Answer yes or no.",
    ),
    "claim_aspect": (
        "Which attribute is the claim about: kind, color, size or origin?",
        "Which property of the thing does the statement talk about: kind, color, size or origin?",
        "Name the attribute the claim describes: its kind, color, size or origin.",
        "Is the statement about the kind, the color, the size or the origin of the thing?",
        "Tell me which property the claim mentions: kind, color, size or origin.",
        "What attribute of the thing is the statement talking about: kind, color, size or origin?",
    ),
    "claim_fix": (
        "Fix the claim: which value should replace the one it states?",
        "Repair the statement by giving the value it should have said instead.",
        "What value should the claim state instead of the one it gives?",
        "Replace the claimed value with the real value for this thing.",
        "Name the value that fixes the claim, replacing the stated one.",
        "Fix the statement: what value belongs there instead?",
    ),
    # ---- held-out tasks (all paraphrases are used for evaluation)
    "thing_big_animal": (
        "Is this thing a big animal?",
        "Answer yes or no: is it an animal of large size?",
        "Is the word the name of a large animal?",
        "Would you call this a big animal?",
        "Is it both an animal and big?",
        "Tell me whether this is a large animal.",
    ),
    "thing_from_north": (
        "Does this thing come from the north?",
        "Is the north its region of origin? Answer yes or no.",
        "Is this thing from the north?",
        "Answer yes or no: does it originate in the north?",
        "Was this thing brought from the north?",
        "Tell me whether this thing is from the north.",
    ),
    "pair_both_alive": (
        "Are both of these things alive?",
        "Is each of the two a living thing?",
        "Answer yes or no: are the two things both living?",
        "Are the first and the second thing both alive?",
        "Do both words name living beings?",
        "Tell me whether both things are alive.",
    ),
    "pair_same_kind_and_color": (
        "Are the two things of the same kind and the same color?",
        "Do both items share both their category and their colour?",
        "Answer yes or no: same type and same color?",
        "Are the two alike in both kind and colour?",
        "Do the two things match in category as well as color?",
        "Is the first thing the same sort and color as the second?",
    ),
    "pair_cheaper": (
        "Which of the two is cheaper?",
        "Which one costs less, the first or the second?",
        "Tell me which thing has the lower price.",
        "Pick the less expensive of the two items.",
        "Which item is cheaper, first or second?",
        "Say which of them costs fewer coins.",
    ),
    "list_largest": (
        "Which item in the list is the biggest?",
        "Find the largest thing: first, second or third?",
        "Which of the three has the greatest size?",
        "Point to the biggest of these items.",
        "Which one of the three is largest?",
        "Tell me the position of the biggest item.",
    ),
    "list_count_red": (
        "How many of these things are red?",
        "Count the red things in the list.",
        "How many items in the list have the color red?",
        "Give the number of red things among them.",
        "Count how many of the items are red.",
        "What number of these things are red in colour?",
    ),
    "claim_price": (
        "How much does the thing in the claim cost?",
        "What is the price in coins of the thing the statement mentions?",
        "Give the cost of the thing named in the claim.",
        "How many coins does the thing in the statement cost?",
        "Ignore the claim and tell me the thing's price.",
        "What does the thing mentioned in the claim cost?",
    ),
}

def train_paraphrases(task: str) -> tuple[str, ...]:
    """Paraphrases an expert of ``task`` trains on."""
    return PARAPHRASES[task][:TRAIN_PARAPHRASES]


def eval_paraphrases(task: str, heldout: bool) -> tuple[str, ...]:
    """Paraphrases used to evaluate ``task``: unseen ones for held-in, all for held-out."""
    return PARAPHRASES[task] if heldout else PARAPHRASES[task][TRAIN_PARAPHRASES:]
