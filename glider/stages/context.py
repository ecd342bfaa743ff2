"""What every stage needs: the resolved config, the task source, the backbone and the library."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from glider.backbone import Backbone, fingerprint
from glider.data.source import TaskSource
from glider.errors import ConfigError
from glider.library.library import ExpertLibrary

log = logging.getLogger("glider")


@dataclass
class StageContext:
    """Shared, lazily built state of one pipeline run."""

    cfg: DictConfig
    _backbone: tuple[Any, Any] | None = field(default=None, repr=False)

    @property
    def seed(self) -> int:
        return int(self.cfg.seed)

    @property
    def backbone_seed(self) -> int:
        """Seed of the tiny backbone's pretraining: ``model.pretrain.seed``, or the run's seed when null.

        Pinned by default, so runs with different seeds share one base model (as every
        expert of a real library shares one released checkpoint) and differ in experts,
        gates and evaluation samples.
        """
        pinned = self.model_cfg.get("pretrain", {}).get("seed") if self.model_cfg.get("pretrain") else None
        return self.seed if pinned is None else int(pinned)

    @cached_property
    def source(self) -> TaskSource:
        source = hydra.utils.instantiate(self.cfg.task)
        if not isinstance(source, TaskSource):
            raise ConfigError(f"task._target_ must build a glider TaskSource, got {type(source).__name__}.")
        return source

    # ------------------------------------------------------------------ backbone
    @property
    def model_cfg(self) -> DictConfig:
        return self.cfg.model

    @cached_property
    def backbone_fingerprint(self) -> str:
        """Identity of the backbone: the config that builds/loads it (and, for tiny, the data it is pretrained on)."""
        spec = {k: v for k, v in OmegaConf.to_container(self.model_cfg, resolve=True).items() if k != "_target_"}
        if self.model_cfg.source == "tiny":
            spec = {"model": spec, "data": self.source.fingerprint(), "seed": self.backbone_seed}
        return fingerprint(spec)

    @property
    def backbone_dir(self) -> Path:
        """Where a tiny backbone trained here is saved."""
        return Path(self.cfg.paths.backbones_dir) / f"{self.model_cfg.name}-{self.source.name}-seed{self.backbone_seed}-{self.backbone_fingerprint}"

    def backbone_identity(self) -> dict[str, Any]:
        model_cfg = self.model_cfg
        ident = model_cfg.get("name_or_path") if model_cfg.source == "pretrained" else str(self.backbone_dir)
        return {"id": ident, "name": model_cfg.name, "fingerprint": self.backbone_fingerprint}

    @cached_property
    def backbone(self) -> Backbone:
        """The model config's :class:`~glider.backbone.Backbone` (``model._target_``)."""
        return hydra.utils.instantiate(self.model_cfg, _convert_="all")

    def load_backbone(self) -> tuple[Any, Any]:
        """A fresh (model, tokenizer); the model is a new copy on every call."""
        if self._backbone is None:
            self._backbone = self.backbone.load(self.backbone_dir)
        model, tokenizer = self._backbone
        return copy.deepcopy(model).eval(), tokenizer

    def fresh_tokenizer(self) -> Any:
        return self.backbone.fresh_tokenizer(self.source.vocabulary())

    # ------------------------------------------------------------------ library
    @property
    def library_dir(self) -> Path:
        return Path(self.cfg.library.dir)

    @property
    def target_modules(self) -> list[str]:
        return list(self.model_cfg.target_modules)

    def open_library(self, create: bool = False) -> ExpertLibrary:
        if create:
            return ExpertLibrary.open_or_create(self.library_dir, self.backbone_identity(), self.target_modules)
        return ExpertLibrary.open(self.library_dir)

    @property
    def run_dir(self) -> Path:
        return Path(self.cfg.paths.run_dir)
