"""OmegaConf resolvers of glider's configs (registered when ``glider`` is imported)."""

from __future__ import annotations

import os

from omegaconf import OmegaConf

from glider.errors import ConfigError


def task_names(task_set: str) -> list[str]:
    """The expert tasks of a paper setting, in the order the experts are imported and routed:
    ``t0_heldin`` (the 35 held-in P3 tasks) or ``flan`` (the 166 keys of flan_instruction.json)."""
    if task_set == "t0_heldin":
        from glider.data.t0_tasks import T0_HELDIN

        return [t.name for t in T0_HELDIN]
    if task_set == "flan":
        from glider.data.flan_names import FLAN_TASKS

        return list(FLAN_TASKS)
    raise ConfigError(f"${{glider.task_names:{task_set}}}: unknown task set '{task_set}'. Choose t0_heldin or flan.")


def register_resolvers() -> None:
    """``${glider.cwd:}``: the absolute working directory, usable before Hydra's job config exists
    (a multirun resolves ``hydra.sweep.dir`` before any job, where ``${hydra:runtime.cwd}`` fails).
    ``${glider.task_names:<set>}``: the expert tasks of a paper setting (see ``task_names``)."""
    if not OmegaConf.has_resolver("glider.cwd"):
        OmegaConf.register_new_resolver("glider.cwd", lambda: os.getcwd(), use_cache=True)
    if not OmegaConf.has_resolver("glider.task_names"):
        OmegaConf.register_new_resolver("glider.task_names", task_names, use_cache=True)
