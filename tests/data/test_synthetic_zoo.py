"""The synthetic zoo: fixed world, counts, splits, shared pools, vocabulary, tokenizer."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from glider.data.synthetic import SyntheticZoo, build_word_tokenizer
from glider.data.synthetic.contents import sample_content
from glider.data.synthetic.paraphrases import PARAPHRASES, eval_paraphrases, train_paraphrases
from glider.data.synthetic.tasks import TASKS
from glider.data.synthetic.world import build_world
from glider.errors import DataError


@pytest.fixture(scope="module")
def zoo() -> SyntheticZoo:
    return SyntheticZoo()


@pytest.fixture(scope="module")
def tokenizer(zoo):
    return build_word_tokenizer(zoo.vocabulary())


def _heldin(zoo):
    return [t for t in zoo.tasks() if t.split == "heldin"]


def _heldout(zoo):
    return [t for t in zoo.tasks() if t.split == "heldout"]


def _all_examples(zoo, n=60, seed=0):
    examples = []
    for spec in zoo.tasks():
        if spec.split == "heldin":
            examples += zoo.train_examples(spec.name, n, seed)
        examples += zoo.eval_examples(spec.name, n, seed)
    return examples


def test_world_and_examples_are_deterministic(zoo):
    other = SyntheticZoo()
    assert zoo.tasks() == other.tasks()
    assert zoo.vocabulary() == other.vocabulary()
    assert zoo.world.entities == other.world.entities
    assert zoo.train_examples("pair_first_kind", 20, 3) == other.train_examples("pair_first_kind", 20, 3)
    assert zoo.eval_examples("list_first_color", 20, 3) == other.eval_examples("list_first_color", 20, 3)
    assert zoo.pretrain_pairs(20, 3) == other.pretrain_pairs(20, 3)
    assert zoo.eval_examples("list_first_color", 20, 3) != zoo.eval_examples("list_first_color", 20, 4)


def test_world_is_pinned():
    """The world itself (not only its construction) stays fixed across versions and machines."""
    world = build_world()
    assert len(world.entities) == 256
    assert (len(world.train_entities), len(world.eval_entities)) == (192, 64)
    first = world.entities[0]
    assert (first.kind, first.color, first.size, first.origin) == ("animal", "red", "tiny", "north")
    assert len({e.word for e in world.entities}) == 256
    assert all(re.fullmatch(r"[a-z]{5}", e.word) for e in world.entities)


def test_counts(zoo):
    heldin, heldout = _heldin(zoo), _heldout(zoo)
    assert len(heldin) >= 16 and len({t.family for t in heldin}) >= 4
    assert len(heldout) >= 6
    assert [t.split for t in zoo.tasks()] == ["heldin"] * len(heldin) + ["heldout"] * len(heldout)
    assert sum(t.metric == "exact_match" for t in heldin) >= 2
    for spec in zoo.tasks():
        assert spec.metric in ("rank_classification", "exact_match")
        assert spec.num_choices == (0 if spec.metric == "exact_match" else len(spec.extra["choices"]))
        assert spec.family


def test_paraphrases(zoo):
    for spec in zoo.tasks():
        paraphrases = PARAPHRASES[spec.name]
        assert len(paraphrases) >= 5 and len(set(paraphrases)) == len(paraphrases)
    for spec in _heldin(zoo):
        train, held = set(train_paraphrases(spec.name)), set(eval_paraphrases(spec.name, heldout=False))
        assert train and held and not train & held
        assert {ex.instruction for ex in zoo.train_examples(spec.name, 200, 0)} <= train
        assert {ex.instruction for ex in zoo.eval_examples(spec.name, 200, 0)} <= held
    every = [p for texts in PARAPHRASES.values() for p in texts]
    assert len(set(every)) == len(every), "no two tasks share a paraphrase"


def test_eval_words_are_never_trained_on(zoo):
    train_words = {e.word for e in zoo.world.train_entities}
    eval_words = {e.word for e in zoo.world.eval_entities}
    assert not train_words & eval_words
    all_words = train_words | eval_words
    for spec in zoo.tasks():
        if spec.split == "heldin":
            used = {w for ex in zoo.train_examples(spec.name, 100, 0) for w in ex.content.split() if w in all_words}
            assert used and used <= train_words
        used = {w for ex in zoo.eval_examples(spec.name, 100, 0) for w in ex.content.split() if w in all_words}
        assert used and used <= eval_words


def test_tasks_of_a_family_share_input_pools(zoo):
    """Same content shapes and the same words for every task of a family: only the instruction differs."""
    words = {e.word for e in zoo.world.entities}
    by_family: dict[str, list] = {}
    for spec in _heldin(zoo):
        contents = [ex.content for ex in zoo.train_examples(spec.name, 1000, 0)]
        shapes = {" ".join("X" if w in words else w for w in c.split()) for c in contents}
        used = {w for c in contents for w in c.split() if w in words}
        assert len(used) >= 0.9 * len(zoo.world.train_entities), spec.name
        by_family.setdefault(spec.family, []).append(shapes)
    for family, members in by_family.items():
        assert len(members) >= 2
        assert all(shapes == members[0] for shapes in members), family
    # the sampler of a family does not know the task: same rng, same inputs
    pool = zoo.world.train_entities
    for family in by_family:
        assert sample_content(family, pool, random.Random(5)) == sample_content(family, pool, random.Random(5))


def test_examples_are_consistent(zoo):
    for spec in zoo.tasks():
        examples = zoo.eval_examples(spec.name, 50, 1)
        assert [ex.uid for ex in examples] == list(range(50))
        for ex in examples:
            assert ex.task == spec.name and ex.target
            assert ex.source == f"{ex.instruction} {ex.content}"
            if spec.metric == "rank_classification":
                assert ex.choices == tuple(spec.extra["choices"]) and ex.choices[ex.label] == ex.target
            else:
                assert ex.choices == () and ex.label == -1
    with pytest.raises(DataError, match="held-out"):
        zoo.train_examples(_heldout(zoo)[0].name, 1, 0)


def test_rank_classification_answers_are_not_lopsided(zoo):
    for spec in zoo.tasks():
        if spec.metric != "rank_classification":
            continue
        counts = Counter(ex.target for ex in zoo.eval_examples(spec.name, 400, 0))
        assert max(counts.values()) / 400 <= 0.65, (spec.name, counts)


def test_heldout_tasks_are_not_renamed_heldin_tasks(zoo):
    by_name = {t.name: t for t in TASKS}
    rng = random.Random(0)
    for held in _heldout(zoo):
        contents = [sample_content(held.family, zoo.world.entities, rng) for _ in range(300)]
        answers = [by_name[held.name].answer(c) for c in contents]
        for spec in _heldin(zoo):
            if spec.family == held.family:
                assert answers != [by_name[spec.name].answer(c) for c in contents], (held.name, spec.name)


def test_every_text_tokenizes_without_unk(zoo, tokenizer):
    texts = []
    for ex in _all_examples(zoo):
        texts += [ex.source, ex.target, *ex.choices]
    for source, target in zoo.pretrain_pairs(500, 0):
        texts += [source, target]
    encoded = tokenizer(texts)["input_ids"]
    assert all(tokenizer.unk_token_id not in ids for ids in encoded)
    assert max(len(ids) for ids in encoded) <= 41  # <= 40 words + </s>


def test_pretraining_is_generic(zoo):
    answers = {ex.target for ex in _all_examples(zoo)} | {c for t in zoo.tasks() for c in t.extra["choices"]}
    pairs = zoo.pretrain_pairs(2000, 0)
    target_words = {w for _, target in pairs for w in target.split()}
    assert not target_words & answers, "describe targets must not use any task's answer words"
    paraphrases = [p for texts in PARAPHRASES.values() for p in texts]
    assert not any(source.startswith(p) for source, _ in pairs for p in paraphrases)
    families_seen = {source.split(" : ")[0].split()[-1] for source, _ in pairs}
    assert {"word", "check", "first", "items"} <= families_seen  # multi-word inputs too


def test_tokenizer_conventions_and_round_trip(zoo, tokenizer, tmp_path):
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    text = "Is the first thing big? first : " + zoo.world.entities[0].word
    ids = tokenizer(text)["input_ids"]
    assert ids[-1] == 1 and 2 not in ids
    words = "is the first thing big ? first : " + zoo.world.entities[0].word
    assert tokenizer.decode(ids, skip_special_tokens=True) == words
    assert tokenizer("ZZZ-unknown")["input_ids"][0] == 2
    tokenizer.save_pretrained(tmp_path)
    from transformers import AutoTokenizer

    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded(text)["input_ids"] == ids
    assert reloaded.decode(ids, skip_special_tokens=True) == words
    assert reloaded.get_vocab() == tokenizer.get_vocab()


def test_unknown_task_is_a_clear_error(zoo):
    with pytest.raises(DataError) as error:
        zoo.task("no_such_task")
    assert "no_such_task" in str(error.value) and "thing_kind" in str(error.value)
    with pytest.raises(DataError, match="no_such_task"):
        zoo.eval_examples("no_such_task", 3, 0)
    with pytest.raises(DataError):
        zoo.train_examples("thing_kind", -1, 0)
