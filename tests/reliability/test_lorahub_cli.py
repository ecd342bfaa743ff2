"""router=lorahub's bad settings at the CLI end: one ``glider: error:`` line naming the setting, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.cli import BARE, assert_clean_error, overriding, run_in_process


@pytest.mark.parametrize("overrides, fragments", [
    (["router.lorahub.steps=0"], ["router.lorahub.steps must be a positive integer, got 0"]),
    (["router.lorahub.bound=-1"], ["router.lorahub.bound must be positive"]),
    (["router.local=[phatgoose]"], ["router=lorahub applies one composed expert per task: it takes no other scorer"]),
])
def test_bad_lorahub_settings(tmp_path: Path, capsys: pytest.CaptureFixture, overrides: list[str], fragments: list[str]) -> None:
    outcome = run_in_process(tmp_path, overriding(BARE, "router=lorahub", *overrides), capsys)
    assert_clean_error(outcome, *fragments)


def test_an_empty_library_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    library = tmp_path / "outputs" / "libraries" / "synthetic-t5_tiny-seed0"
    library.mkdir(parents=True)
    (library / "library.json").write_text('{"experts": []}')
    outcome = run_in_process(tmp_path, overriding(BARE, "router=lorahub", "stage=eval"), capsys)
    assert_clean_error(outcome, "router=lorahub needs a library with at least one expert")
