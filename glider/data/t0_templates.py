"""Prompt templates for the T0 (P3) tasks: one original-task template per dataset.

Written for this project in the spirit of promptsource's original-task prompts (the
task as the dataset's authors posed it, answer choices spelled out). Each function takes
one raw row in its hub dataset's schema and returns a ``Rendered`` (or None when the row
has no usable answer, e.g. a hidden test label).
"""

from __future__ import annotations

import hashlib
from typing import Any

from glider.data.raw_task import Rendered, choice, generation

Row = dict[str, Any]


def _bullets(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"- {str(i).strip()}" for i in items)


def _int(value: Any) -> int:
    """A label that may be stored as an int or a numeric string; -1 when missing."""
    if value is None or value == "":
        return -1
    return int(value)


def _rotation(text: str, n: int) -> int:
    """A stable pseudo-random offset from a row's text (to vary where the answer sits)."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % n


# ---------------------------------------------------------------- multiple-choice QA
def socialiqa(row: Row) -> Rendered | None:
    choices = [row["answerA"], row["answerB"], row["answerC"]]
    source = f"{row['context']}\n\nGiven the context: {row['question']}\n\nPossible answers:\n{_bullets(choices)}"
    return choice(source, choices, _int(row["label"]) - 1)


def wiqa(row: Row) -> Rendered | None:
    steps = "\n".join(f"- {s}" for s in row["question_para_step"] if s)
    labels = {"more": 0, "less": 1, "no_effect": 2}
    source = (f"Process:\n{steps}\n\nQuestion:\n{row['question_stem']}\n\n"
              "How does the supposed perturbation influence the second effect mentioned? Answer by more, less or no effect.")
    return choice(source, ["more", "less", "no effect"], labels.get(row["answer_label"], -1))


def cosmosqa(row: Row) -> Rendered | None:
    choices = [row[f"answer{i}"] for i in range(4)]
    source = (f"{row['context']}\n\nAccording to the above context, choose the best option to answer the following question.\n"
              f"Question: {row['question']}\nOptions:\n{_bullets(choices)}")
    return choice(source, choices, _int(row["label"]))


def quail(row: Row) -> Rendered | None:
    choices = list(row["answers"])
    letters = "ABCD"
    opts = "\n".join(f"{letters[i]}. {c}" for i, c in enumerate(choices))
    source = f"{row['context']}\n\nQuestion: {row['question']}\n\nOptions:\n{opts}\n\nAnswer with the correct option."
    return choice(source, choices, _int(row["correct_answer_id"]))


def quartz(row: Row) -> Rendered | None:
    texts, labels = list(row["choices"]["text"]), list(row["choices"]["label"])
    label = labels.index(row["answerKey"]) if row["answerKey"] in labels else -1
    source = f"Answer the question based on the following text.\n\nQuestion:\n{row['question']}\n\nText:\n{row['para']}"
    return choice(source, texts, label)


def qasc(row: Row) -> Rendered | None:
    texts, labels = list(row["choices"]["text"]), list(row["choices"]["label"])
    label = labels.index(row["answerKey"]) if row["answerKey"] in labels else -1
    source = (f"Fact 1: {row['fact1']}\nFact 2: {row['fact2']}\n\n"
              f"Given the two facts above, answer the question \"{row['question']}\" with the following options:\n{_bullets(texts)}")
    return choice(source, texts, label)


def commonsenseqa(row: Row) -> Rendered | None:
    texts, labels = list(row["choices"]["text"]), list(row["choices"]["label"])
    label = labels.index(row["answerKey"]) if row["answerKey"] in labels else -1
    source = f"{row['question']}\n\nChoose the most suitable option to answer the above question.\nOptions:\n{_bullets(texts)}"
    return choice(source, texts, label)


def quarel(row: Row) -> Rendered | None:
    worlds = row["world_literals"]
    choices = [worlds["world1"][0], worlds["world2"][0]]
    source = (f"Here's a short story: {row['question']}\n\n"
              f"What is the most sensical answer between \"{choices[0]}\" and \"{choices[1]}\"?")
    return choice(source, choices, _int(row["answer_index"]))


def dream(row: Row) -> Rendered | None:
    choices = list(row["choice"])
    label = choices.index(row["answer"]) if row["answer"] in choices else -1
    dialogue = "\n".join(row["dialogue"])
    source = f"Read the following conversation and answer the question.\n\n{dialogue}\n\nQuestion: {row['question']}\n\n{_bullets(choices)}"
    return choice(source, choices, label)


def sciq(row: Row) -> Rendered | None:
    options = [row["distractor1"], row["distractor2"], row["distractor3"], row["correct_answer"]]
    shift = _rotation(row["question"], 4)
    choices = options[shift:] + options[:shift]
    source = (f"Q: {row['question']}\n\nRead this paragraph and choose the correct option from the provided answers:\n\n"
              f"{row['support']}\n\nChoices:\n{_bullets(choices)}\n\nA:")
    return choice(source, choices, choices.index(row["correct_answer"]))


def wikihop(row: Row) -> Rendered | None:
    relation, _, subject = (row.get("query") or row["question"]).partition(" ")
    candidates = list(row["candidates"])
    label = candidates.index(row["answer"]) if row["answer"] in candidates else -1
    facts = "\n".join(f"- {s}" for s in row["supports"])
    source = (f"What object entity has the relation of '{relation.replace('_', ' ')}' with the subject '{subject}'?\n\n"
              f"Choices:\n{_bullets(candidates)}\n\nInformation:\n{facts}")
    return choice(source, candidates, label)


def wikiqa(row: Row) -> Rendered | None:
    source = (f"Question: {row['question']}\nI found the following answer on Google: {row['answer']}\n"
              "Is that a correct answer? Yes or no.")
    return choice(source, ["No", "Yes"], _int(row["label"]))


# ---------------------------------------------------------------- extractive / closed-book QA
def ropes(row: Row) -> Rendered | None:
    source = (f"Background: {row['background']}\n\nParagraph: {row['situation']}\n\n"
              f"Given the paragraph above, please answer correctly the following question: {row['question']}")
    return generation(source, list(row["answers"]["text"]))


def adversarialqa(row: Row) -> Rendered | None:
    source = f"Extract the answer to the question from the following context.\nQuestion: {row['question']}\nContext: {row['context']}"
    return generation(source, list(row["answers"]["text"]))


NO_ANSWER = "No answer"


def duorc(row: Row) -> Rendered | None:
    source = (f"Question: {row['question']}\nIf there is no answer, please output \"{NO_ANSWER}\".\n"
              f"Movie title: {row['title']}\nContext: {row['plot']}")
    answers = [NO_ANSWER] if row.get("no_answer") else list(row["answers"])
    return generation(source, answers)


def quoref(row: Row) -> Rendered | None:
    source = f"Given the following context:\n\n{row['context']}\n\nanswer the following question:\n\n{row['question']}"
    return generation(source, list(row["answers"]["text"]))


def hotpotqa(row: Row) -> Rendered | None:
    answers = [o["answer"] for o in row["output"] if o.get("answer")]
    return generation(f"Combine facts and answer this: {row['input']}", answers)


# ---------------------------------------------------------------- sentiment / topic classification
def amazonpolarity(row: Row) -> Rendered | None:
    source = f"Title: {row['title']}\nReview: {row['content']}\nIs the review positive or negative?"
    return choice(source, ["Negative", "Positive"], _int(row["label"]))


def appreviews(row: Row) -> Rendered | None:
    source = (f"What would be the star-rating of this review (1 being lowest and 5 being highest)?\n\"{row['review']}\"")
    return choice(source, ["1", "2", "3", "4", "5"], _int(row["star"]) - 1)


def rottentomatoes(row: Row) -> Rendered | None:
    return choice(f"{row['text']} Did the reviewer find this movie good or bad?", ["bad", "good"], _int(row["label"]))


def imdb(row: Row) -> Rendered | None:
    return choice(f"{row['text']}\nIs this review positive or negative?", ["negative", "positive"], _int(row["label"]))


def yelp(row: Row) -> Rendered | None:
    stars = ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]
    return choice(f"{row['text']}\nSo I would like to give it", stars, _int(row["label"]))


AGNEWS = ["World politics", "Sports", "Business", "Science and technology"]


def agnews(row: Row) -> Rendered | None:
    source = f"What label best describes this news article?\n{row['text']}"
    return choice(source, AGNEWS, _int(row["label"]))


DBPEDIA = ["Company", "Educational Institution", "Artist", "Athlete", "Office Holder", "Mean Of Transportation",
           "Building", "Natural Place", "Village", "Animal", "Plant", "Album", "Film", "Written Work"]


def dbpedia14(row: Row) -> Rendered | None:
    categories = ", ".join(c.lower() for c in DBPEDIA)
    source = f"{row['title']} - {row['content']}\nGiven a list of categories: {categories}, what category does the paragraph belong to?"
    return choice(source, DBPEDIA, _int(row["label"]))


TREC = ["Abbreviation", "Entity", "Description", "Person", "Location", "Quantity"]  # coarse_label order


def trec(row: Row) -> Rendered | None:
    source = f"Categories: {', '.join(TREC)}\n\nWhat category best describes: {row['text']}\nAnswer:"
    return choice(source, TREC, _int(row["coarse_label"]))


# ---------------------------------------------------------------- generation
def wikibio(row: Row) -> Rendered | None:
    table = row["input_text"]["table"]
    facts = "\n".join(f"- {h.replace('_', ' ')}: {c}" for h, c in zip(table["column_header"], table["content"]) if c.strip())
    source = f"Facts:\n{facts}\nBased on these bullet points, write a short biography describing the life of this person."
    return generation(source, row["target_text"])


def commongen(row: Row) -> Rendered | None:
    return generation(f"Create a sentence with the following words: {', '.join(row['concepts'])}.", row["target"])


def cnndailymail(row: Row) -> Rendered | None:
    return generation(f"Summarize this article:\n\n{row['article']}", row["highlights"])


def multinews(row: Row) -> Rendered | None:
    return generation(f"Write a summary of the following articles:\n\n{row['document']}", row["summary"])


def gigaword(row: Row) -> Rendered | None:
    return generation(f"Generate a title for this article: {row['document']}", row["summary"])


def samsum(row: Row) -> Rendered | None:
    return generation(f"Summarize this dialogue:\n{row['dialogue']}", row["summary"])


def xsum(row: Row) -> Rendered | None:
    return generation(f"{row['document']}\n\nWhat is a summary of this text in one sentence?", row["summary"])


# ---------------------------------------------------------------- paraphrase identification
def paws(row: Row) -> Rendered | None:
    source = (f"Sentence 1: {row['sentence1']}\nSentence 2: {row['sentence2']}\n"
              "Question: Do Sentence 1 and Sentence 2 express the same meaning? Yes or No?")
    return choice(source, ["No", "Yes"], _int(row["label"]))


def qqp(row: Row) -> Rendered | None:
    source = f"Question 1: {row['question1']}\nQuestion 2: {row['question2']}\nDo these two questions convey the same meaning? Yes or no?"
    return choice(source, ["No", "Yes"], _int(row["label"]))


def mrpc(row: Row) -> Rendered | None:
    source = f"Sentence 1: {row['sentence1']}\nSentence 2: {row['sentence2']}\nDo these two sentences express the same meaning? Yes or no?"
    return choice(source, ["No", "Yes"], _int(row["label"]))


# ---------------------------------------------------------------- T0 held-out tasks
def hswag(row: Row) -> Rendered | None:
    source = f"Complete the description with an appropriate ending:\nFirst, {row['ctx_a']} Then, {row['ctx_b']} ..."
    return choice(source, list(row["endings"]), _int(row["label"]))


def copa(row: Row) -> Rendered | None:
    question = "What was the cause?" if row["question"] == "cause" else "What happened as a result?"
    premise = row["premise"].rstrip(".")
    choices = [row["choice1"], row["choice2"]]
    return choice(f"{premise}. {question}\nOptions:\n{_bullets(choices)}", choices, _int(row["label"]))


def storycloze(row: Row) -> Rendered | None:
    story = " ".join(row[f"input_sentence_{i}"] for i in range(1, 5))
    choices = [row["sentence_quiz1"], row["sentence_quiz2"]]
    source = f"{story} What is a possible continuation for the story given the following options?\n{_bullets(choices)}"
    return choice(source, choices, _int(row["answer_right_ending"]) - 1)


def cb(row: Row) -> Rendered | None:
    source = f"{row['premise']} Question: {row['hypothesis']} True, False, or Neither?"
    return choice(source, ["True", "False", "Neither"], _int(row["label"]))  # entailment, contradiction, neutral


def rte(row: Row) -> Rendered | None:
    source = f"{row['premise']}\nQuestion: Does this imply that \"{row['hypothesis']}\"? Yes or no?"
    return choice(source, ["Yes", "No"], _int(row["label"]))  # entailment, not_entailment


def anli(row: Row) -> Rendered | None:
    source = f"{row['premise']}\nQuestion: {row['hypothesis']} True, False, or Neither?"
    return choice(source, ["True", "Neither", "False"], _int(row["label"]))  # entailment, neutral, contradiction


def winogrande(row: Row) -> Rendered | None:
    choices = [row["option1"], row["option2"]]
    source = f"{row['sentence']}\nWhat does the _ in the above sentence refer to? {choices[0]} or {choices[1]}?"
    return choice(source, choices, _int(row["answer"]) - 1)


def wscfixed(row: Row) -> Rendered | None:
    source = f"{row['text']}\nIn the previous sentence, does the pronoun \"{row['span2_text']}\" refer to {row['span1_text']}? Yes or no?"
    return choice(source, ["No", "Yes"], _int(row["label"]))


def wic(row: Row) -> Rendered | None:
    source = (f"Does the word \"{row['word']}\" have the same meaning in these two sentences? Yes, No?\n"
              f"{row['sentence1']}\n{row['sentence2']}")
    return choice(source, ["No", "Yes"], _int(row["label"]))
