"""Every file under conf/ composes and its component instantiates (Hydra compose API)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import OmegaConf, open_dict

import glider  # noqa: F401  (registers the config resolvers, as python -m glider.run does)
from tests.shared import shared_instructions_dir

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir())
INSTANTIATED = {"task", "router", "llm", "embedder", "logger", "trainer", "model"}
# options that only make sense inside a setting that fills them in (llm=embeddings alone is a ConfigError: tested)
NEEDS = {("llm", "embeddings"): ["experiment=t0_heldin"]}


def _options() -> list[tuple[str, str]]:
    """Every selectable option (files starting with ``_`` are shared parts, e.g. conf/router/_base.yaml)."""
    return [(group, f.stem) for group in GROUPS for f in sorted((CONF / group).glob("*.yaml")) if not f.stem.startswith("_")]


def compose_config(tmp_path: Path, overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose(config_name="config", overrides=overrides)
    with open_dict(cfg):
        cfg.paths.root_dir = str(tmp_path)
        cfg.paths.run_dir = str(tmp_path / "run")
        cfg.paths.instructions_dir = str(shared_instructions_dir())
    return cfg


def test_every_config_group_has_files() -> None:
    for group in ("model", "task", "library", "router", "llm", "embedder", "trainer", "logger", "paths"):
        assert group in GROUPS, group
    routers = {f.stem for f in (CONF / "router").glob("*.yaml")}
    assert {"glider", "phatgoose", "arrow", "instruction", "retrieval", "oracle", "merged", "uniform", "base"} <= routers


@pytest.mark.parametrize("group,name", _options())
def test_compose_and_instantiate(group: str, name: str, tmp_path: Path) -> None:
    overrides = [f"{group}={name}", *NEEDS.get((group, name), [])]
    cfg = compose_config(tmp_path, overrides)
    OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
    if group in INSTANTIATED:
        obj = instantiate(cfg[group], _convert_="all")
        assert obj is not None


def test_every_router_is_the_base_config_plus_its_own_values(tmp_path: Path) -> None:
    """conf/router/_base.yaml holds every key; a router file adds its name and what differs, nothing else."""
    base_keys = set(OmegaConf.load(CONF / "router" / "_base.yaml"))
    for path in sorted((CONF / "router").glob("[!_]*.yaml")):
        own = OmegaConf.load(path)
        assert list(own.defaults) == ["_base", "_self_"], path.name
        settings = set(own.get("global_scorers") or []) & set(own)  # a scorer's settings block (router.lorahub)
        assert set(own) - {"defaults"} <= base_keys | {"name"} | settings, path.name
        composed = compose_config(tmp_path, [f"router={path.stem}"]).router
        assert set(composed) == base_keys | {"name"} | settings and composed.name == path.stem, path.name
