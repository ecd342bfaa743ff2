"""OmegaConf resolvers of glider's configs (registered when ``glider`` is imported)."""

from __future__ import annotations

import os

from omegaconf import OmegaConf


def register_resolvers() -> None:
    """``${glider.cwd:}``: the absolute working directory, usable before Hydra's job config exists
    (a multirun resolves ``hydra.sweep.dir`` before any job, where ``${hydra:runtime.cwd}`` fails)."""
    if not OmegaConf.has_resolver("glider.cwd"):
        OmegaConf.register_new_resolver("glider.cwd", lambda: os.getcwd(), use_cache=True)
