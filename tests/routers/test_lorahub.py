"""router=lorahub's router: the task's composed expert alone (top-1), its settings, its objective's L1 term."""

from __future__ import annotations

import math

import pytest
import torch

from glider.errors import ConfigError
from glider.routers.base import ExpertSide, QueryBatch
from glider.routers.lorahub import LoraHubScorer, LoraHubSettings, l1_penalty, lorahub_settings
from glider.routers.registry import build_router
from glider.routers.selection import TopK
from tests.test_configs import compose_config


def test_each_example_goes_to_its_tasks_composed_expert() -> None:
    router = build_router("lorahub", global_scorers={"lorahub": {"steps": 7}}, top_k=1)
    router.bind(ExpertSide(names=["lorahub:a", "lorahub:b"], tasks=["a", "b"]))
    scores = router.global_scores(QueryBatch(tasks=["b", "a", "b"]))
    assert torch.equal(scores, torch.tensor([[-math.inf, 0.0], [0.0, -math.inf], [-math.inf, 0.0]]))
    idx, w = router.selection(scores)
    assert idx.flatten().tolist() == [1, 0, 1] and torch.allclose(w, torch.ones_like(w))
    assert lorahub_settings(router) == LoraHubSettings(steps=7)
    assert lorahub_settings(build_router("oracle", global_scorers=["oracle"], top_k=1)) is None


def test_l1_term_is_lambda_times_mean_absolute_weight() -> None:
    assert l1_penalty([1.0, -0.5, 0.0, 1.5], 0.05) == pytest.approx(0.05 * 3.0 / 4)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"steps": 0}, "router.lorahub.steps must be a positive integer"),
    ({"experts": 2.5}, "router.lorahub.experts must be a positive integer"),
    ({"bound": 0.0}, "router.lorahub.bound must be positive"),
    ({"l1": -0.1}, "router.lorahub.l1 must be non-negative"),
])
def test_bad_settings_are_one_clear_error(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        LoraHubScorer(**kwargs)


@pytest.mark.parametrize("kwargs", [{"local": ["phatgoose"]}, {"global_scorers": {"lorahub": {}, "uniform": 1.0}}, {"candidates": 4},
                                    {"mode": "merged"}])
def test_lorahub_takes_no_other_scorer(kwargs: dict) -> None:
    kwargs = {"global_scorers": {"lorahub": {}}, **kwargs}
    with pytest.raises(ConfigError, match="router=lorahub applies one composed expert per task"):
        build_router("lorahub", **kwargs)


@pytest.mark.parametrize("kwargs", [{"top_k": 2, "alpha": 100}, {"top_p": 0.5}, {"dense": True}])
def test_selection_knobs_do_not_apply_it_is_always_top1(kwargs: dict) -> None:
    router = build_router("lorahub", global_scorers={"lorahub": {}}, **kwargs)
    assert isinstance(router.selection, TopK) and router.selection.k == 1 and router.alpha == 1.0


@pytest.mark.parametrize("experiment", ["t0_heldin", "t0_heldout", "t0_bbh", "t0_bbl", "flan_bbh", "flan_bbl"])
def test_each_paper_setting_composes_with_router_lorahub(tmp_path, experiment: str) -> None:
    from hydra.utils import instantiate

    cfg = compose_config(tmp_path, [f"experiment={experiment}", "router=lorahub"])  # the experiment sets GLIDER's alpha and top-2
    router = instantiate(cfg.router, _convert_="all")
    assert router.describe() == "1*lorahub | top1" and lorahub_settings(router) == LoraHubSettings()


def test_the_config_names_the_original_defaults_and_takes_the_paper_override(tmp_path) -> None:
    from hydra.utils import instantiate

    default = instantiate(compose_config(tmp_path, ["router=lorahub"]).router, _convert_="all")
    assert lorahub_settings(default) == LoraHubSettings(examples=3, experts=20, steps=10, bound=1.5, l1=0.05)
    paper = compose_config(tmp_path, ["router=lorahub", "router.lorahub.examples=5", "router.lorahub.steps=40"])
    assert lorahub_settings(instantiate(paper.router, _convert_="all")) == LoraHubSettings(examples=5, steps=40)
