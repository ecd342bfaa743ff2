"""A killed write leaves only temp names; the next build (under the lock) restores or removes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from glider.errors import LibraryError
from glider.io import atomic_directory, recover_interrupted_writes
from glider.library.library import ExpertLibrary
from tests.conftest import random_expert


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_interrupted_replacement_is_restored_and_leftovers_removed(tmp_path: Path) -> None:
    folder = tmp_path / "experts"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "w").write_text("a")
    old = folder / ".b.abcd1234.old" / "x"  # killed between the two renames that replace b
    old.mkdir(parents=True)
    (old / "w").write_text("b as it was")
    (folder / ".c.zzzz9999.tmp").mkdir()  # killed while writing c
    (folder / ".c.zzzz9999.tmp" / "w").write_bytes(b"\x00partial")
    (folder / "a" / ".card.json.q1w2e3r4.tmp").write_text("{")  # killed inside an atomic file write
    actions = recover_interrupted_writes(folder, recursive=True)
    assert _tree(folder) == ["a", "a/w", "b", "b/w"]
    assert (folder / "b" / "w").read_text() == "b as it was"
    assert any("restored" in a for a in actions) and sum("removed leftover" in a for a in actions) == 3


def test_finished_replacement_keeps_the_new_version(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "w").write_text("new")
    (tmp_path / ".b.abcd1234.old" / "x").mkdir(parents=True)
    recover_interrupted_writes(tmp_path)
    assert _tree(tmp_path) == ["b", "b/w"] and (tmp_path / "b" / "w").read_text() == "new"


def test_name_limits_recovery_to_one_entry(tmp_path: Path) -> None:
    (tmp_path / ".mine.abcd1234.tmp").mkdir()
    (tmp_path / ".other.abcd1234.tmp").mkdir()  # another builder's, under another lock
    (tmp_path / ".lock").write_text("")
    recover_interrupted_writes(tmp_path, name="mine")
    assert _tree(tmp_path) == [".lock", ".other.abcd1234.tmp"]


def test_atomic_directory_that_fails_leaves_the_old_version(tmp_path: Path) -> None:
    target = tmp_path / "e"
    with atomic_directory(target) as tmp:
        (tmp / "w").write_text("v1")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "w").write_text("half")
            raise RuntimeError("killed")
    assert _tree(tmp_path) == ["e", "e/w"] and (target / "w").read_text() == "v1"


def test_build_drops_entries_without_files_but_evaluation_names_the_fix(tmp_path: Path, tiny_t5) -> None:
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    for i in range(3):
        library.add(random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i))
    (library.expert_dir("e1") / "adapter_model.safetensors").unlink()
    with pytest.raises(LibraryError, match=r"names expert 'e1' but .* is missing\. Rerun the stage that builds it"):
        ExpertLibrary.open(tmp_path / "lib")
    rebuilt = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    assert rebuilt.names == ["e0", "e2"]
    assert ExpertLibrary.open(tmp_path / "lib").names == ["e0", "e2"]  # the index on disk too


def test_another_backbones_library_is_left_untouched(tmp_path: Path, tiny_t5) -> None:
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(random_expert(tiny_t5, "e0", "t0"))
    (library.expert_dir("e0") / "adapter_model.safetensors").unlink()
    before = (tmp_path / "lib" / "library.json").read_text()
    with pytest.raises(LibraryError, match="was built for backbone"):
        ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "other", "fingerprint": "y"}, ["q"])
    assert (tmp_path / "lib" / "library.json").read_text() == before


@pytest.mark.parametrize("text, problem", [("{not json", "Cannot parse"), ('{"experts": {"e0": 1}}', "is not a glider library index")])
def test_damaged_index_is_one_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "library.json").write_text(text)
    with pytest.raises(LibraryError, match=problem):
        ExpertLibrary.open(tmp_path / "lib")


def test_damaged_card_is_one_clear_error(tmp_path: Path, tiny_t5) -> None:
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(random_expert(tiny_t5, "e0", "t0"))
    (library.expert_dir("e0") / "card.json").write_text('{"task": "t0", "sam')
    with pytest.raises(LibraryError, match=r"card\.json .*the card is corrupted"):
        library.load("e0")
