"""ablation=selection: the paper's top-k 1/2/3 and top-p 0.25/0.5/0.75 ablation as one sweep of any setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from tests.test_configs import CONF, compose_config

RULES = {"k1": (1, None, "top1"), "k2": (2, None, "top2"), "k3": (3, None, "top3"),
         "p025": (2, 0.25, "topp0.25"), "p050": (2, 0.5, "topp0.5"), "p075": (2, 0.75, "topp0.75")}


@pytest.mark.parametrize("experiment", ["t0_heldin", "t0_heldout", "t0_bbh", "t0_bbl", "flan_bbh", "flan_bbl"])
def test_every_setting_sweeps_the_six_selection_rules(tmp_path: Path, experiment: str) -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        hydra_cfg = compose(config_name="config", overrides=[f"experiment={experiment}", "ablation=selection"], return_hydra_config=True).hydra
    assert hydra_cfg.mode.name == "MULTIRUN" and hydra_cfg.sweeper.params["selection.rule"].split(",") == list(RULES)
    base = compose_config(tmp_path, [f"experiment={experiment}", "ablation=selection"])
    for rule, (top_k, top_p, described) in RULES.items():
        cfg = compose_config(tmp_path, [f"experiment={experiment}", "ablation=selection", f"selection.rule={rule}"])
        assert (cfg.router.top_k, cfg.router.top_p) == (top_k, top_p)
        assert cfg.router.alpha == base.router.alpha  # the setting's alpha is kept
        assert instantiate(cfg.router, _convert_="all").selection.describe() == described
