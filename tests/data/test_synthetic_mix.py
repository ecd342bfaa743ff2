"""The mix zoo (task=synthetic_mix): lexicons, dialects, twins, held-out kinds, and the first zoo unchanged."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from glider.data.synthetic import ZOOS, SyntheticZoo, build_word_tokenizer
from glider.data.synthetic.lexicons import DIALECTS, OWN_LEXICONS, SCRIPTS, build_lexicons
from glider.data.synthetic.mix_paraphrases import TWINS
from glider.data.synthetic.mix_tasks import MIX_TASKS
from glider.data.synthetic.world import COMMON
from glider.data.synthetic_source import SyntheticTaskSource
from glider.errors import ConfigError


@pytest.fixture(scope="module")
def zoo() -> SyntheticZoo:
    return SyntheticZoo(ZOOS["mix"])


def _words(zoo: SyntheticZoo, lexicon: str) -> set[str]:
    return {e.word for e in zoo.worlds[lexicon].entities}


def _entity_words(text: str, vocabulary: set[str]) -> set[str]:
    return {w for w in text.lower().split() if w in vocabulary}


def test_lexicons_are_disjoint_word_sets_of_the_same_world():
    worlds = build_lexicons()
    assert list(worlds) == [COMMON, *OWN_LEXICONS]
    words = [{e.word for e in w.entities} for w in worlds.values()]
    assert all(len(w) == 256 for w in words)
    assert len(set().union(*words)) == 256 * len(words)
    assert all(re.fullmatch(r"[bdfgklmnprstvz][aeiou][bdfgklmnprstvz][aeiou][bdfgklmnprstvz]", w) for ws in words for w in ws)
    common = worlds[COMMON]
    for name in OWN_LEXICONS:
        other = worlds[name]
        assert [(e.kind, e.color, e.size, e.origin) for e in other.entities] == [(e.kind, e.color, e.size, e.origin) for e in common.entities]
        assert {e.lexicon for e in other.entities} == {name}
        assert len(other.eval_entities) == 64


def test_twins_share_instructions_and_form_but_not_words(zoo):
    """An own-input task reads, to an uncased embedder, exactly as its twin but for the names: same instructions, same form."""
    for own, twin in TWINS.items():
        own_spec, twin_spec = zoo.task(own), zoo.task(twin)
        assert own_spec.extra["paraphrases"] == twin_spec.extra["paraphrases"]
        own_rows, twin_rows = zoo.train_examples(own, 300, 0), zoo.train_examples(twin, 300, 0)
        lexicon = own_spec.family
        assert {r.instruction.lower() for r in own_rows} == {r.instruction.lower() for r in twin_rows}
        assert all(r.source == SCRIPTS[lexicon](r.source) for r in own_rows)
        assert all(r.source != SCRIPTS[lexicon](r.source) for r in twin_rows)
        shape = lambda rows, words: {" ".join("X" if w in words else w for w in r.content.lower().split()) for r in rows}  # noqa: E731
        assert shape(own_rows, _words(zoo, lexicon)) == shape(twin_rows, _words(zoo, COMMON))
        assert set().union(*(_entity_words(r.content, _words(zoo, lexicon)) for r in own_rows))
        assert not set().union(*(_entity_words(r.content, _words(zoo, COMMON)) for r in own_rows))
        assert set(own_spec.extra["choices"]).isdisjoint(twin_spec.extra["choices"])


def test_dialect_words_are_new_to_the_base(zoo):
    dialect = {w for d in DIALECTS.values() for w in d.vocabulary()}
    assert len(dialect) == sum(len(d.vocabulary()) for d in DIALECTS.values())
    pairs = zoo.pretrain_pairs(3000, 0)
    seen = {w for source, target in pairs for w in (source + " " + target).split()}
    assert not dialect & seen
    inputs = {w for t in zoo.tasks() for ex in zoo.eval_examples(t.name, 50, 0) for w in ex.source.lower().split()}
    assert not dialect & inputs
    # the pretraining names every lexicon, at every position
    assert {"al0", "al1", "al2", "al3", "bl3"} <= {w for _, target in pairs for w in target.split()}


def test_own_inputs_and_heldout_kinds(zoo):
    lexicon_of = {e.word: name for name, world in zoo.worlds.items() for e in world.entities}
    lexicons = {t.name: t.lexicons for t in MIX_TASKS}
    for spec in zoo.tasks():
        rows = zoo.eval_examples(spec.name, 80, 1)
        used = [[lexicon_of[w] for w in r.content.lower().split() if w in lexicon_of] for r in rows]
        if spec.family in OWN_LEXICONS:
            assert all(set(u) == {spec.family} for u in used), spec.name
        elif spec.family == "dialects":  # (b): two own-input families' inputs joined, answered in both dialects
            assert all(u == list(lexicons[spec.name]) for u in used)
            first, second = spec.name.split("_")[:2]
            for r in rows:
                a, b = r.target.split()[:2], r.target.split()[2:]
                assert a[0] == DIALECTS[first].marker and b[0] == DIALECTS[second].marker
        else:
            assert all(set(u) == {COMMON} for u in used), spec.name
        own = sorted(set(lexicons[spec.name]) - {COMMON})
        scripts = [name for name in OWN_LEXICONS if all(r.source == SCRIPTS[name](r.source) for r in rows)]
        assert scripts == own, spec.name  # an input is in its own lexicon's script, and only in it
        assert all(r.choices[r.label] == r.target for r in rows)
    heldout = [t for t in zoo.tasks() if t.split == "heldout"]
    assert {t.family for t in heldout} == {"zar", "mip", "dialects"}  # (a) of two own-input families, and (b)


def test_scripts_are_invisible_to_an_uncased_reader():
    text = "What kind of thing does this word name? word : simab"
    assert {SCRIPTS[name](text).lower() for name in OWN_LEXICONS} == {text.lower()}
    assert len({SCRIPTS[name](text) for name in OWN_LEXICONS} | {text}) == 4


def test_every_text_tokenizes_without_unk_and_case_is_kept(zoo):
    tokenizer = build_word_tokenizer(zoo.vocabulary())
    ids = tokenizer("WORD : Word : word")["input_ids"]
    assert len(set(ids[0:5:2])) == 3
    texts = [s for t in zoo.tasks() for ex in zoo.eval_examples(t.name, 30, 0) for s in (ex.source, *ex.choices)]
    texts += [s for t in zoo.tasks() if t.split == "heldin" for ex in zoo.train_examples(t.name, 30, 0) for s in (ex.source, ex.target)]
    texts += [s for pair in zoo.pretrain_pairs(300, 0) for s in pair]
    encoded = tokenizer(texts)["input_ids"]
    assert all(tokenizer.unk_token_id not in ids for ids in encoded)
    assert max(len(ids) for ids in encoded) <= 64


def test_source_names_the_zoo_in_its_fingerprint_only_when_not_the_first():
    first, mix = SyntheticTaskSource(), SyntheticTaskSource(name="synthetic_mix", zoo="mix")
    assert first.config() == {"name": "synthetic", "zoo_version": "2"}
    assert mix.config() == {"name": "synthetic_mix", "zoo_version": "1", "zoo": "mix"}
    with pytest.raises(ConfigError, match="task.zoo"):
        SyntheticTaskSource(zoo="nope")


def test_the_first_zoo_is_unchanged():
    """task=synthetic's published tables stay reproducible: its vocabulary and examples are pinned."""
    source = SyntheticTaskSource()
    data = [source.vocabulary(), source.pretrain_pairs(300, 0),
            [(e.source, e.target) for t in source.tasks() for e in source.eval_examples(t.name, 30, 1)],
            [(e.source, e.target) for t in source.heldin() for e in source.train_examples(t.name, 30, 2)]]
    assert hashlib.md5(json.dumps(data).encode()).hexdigest() == "2c84011d214068d631de12fc83680c70"
