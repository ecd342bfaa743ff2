"""Bad router and model values at the CLI end (``run_cli``): one ``glider: error:`` line naming the key, exit 2,
no Hydra instantiation trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.cli import BARE, assert_clean_error, overriding, run_in_process


@pytest.mark.parametrize("overrides, fragments", [
    (["router=glider", "router.alpha=-3"], ["router.alpha must be a number >= 0 or 'auto', got -3"]),
    (["router=glider", "router.top_k=0"], ["router.top_k must be a whole number of experts >= 1, got 0"]),
    (["router=phatgoose", "router.top_p=1.5"], ["router.top_p must be in (0, 1]", "got 1.5"]),
    (["router=glider", "router.alpha=auto", "router.alpha_auto.grid=[5]"], ["router.alpha_auto.grid needs at least two different alphas"]),
    (["router=glider", "router.alpha=auto", "router.alpha_auto.cutoff=best"], ["router.alpha_auto.cutoff must be one of"]),
    # a key no router takes (as a misspelled key in a config file arrives): named, not swallowed
    (["router=glider", "+router.top_kk=3"], ["Unknown router key(s) router.top_kk", "conf/router/_base.yaml"]),
    (["+model.max_source_lenght=8"], ["Unknown model key(s) model.max_source_lenght", "a model config takes name, source"]),
    (["model.source=hub"], ["model.source must be 'tiny' or 'pretrained', got 'hub'"]),
])
def test_bad_config_values_are_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture, overrides: list[str], fragments: list[str]) -> None:
    outcome = run_in_process(tmp_path, overriding(BARE, *overrides), capsys)
    assert_clean_error(outcome, *fragments)
