"""What Hydra knows about the running job: its overrides and output directory (None outside a Hydra job)."""

from __future__ import annotations

from typing import Any

# Hydra overrides a re-run of one job must not repeat: the sweep / launch machinery and the
# output-directory settings that the re-run sets itself (it also sets hydra.mode=RUN).
_NOT_REPEATED = ("hydra/launcher", "hydra/sweeper", "hydra.launcher", "hydra.sweeper", "hydra.sweep", "hydra.run",
                 "hydra.mode", "hydra.output_subdir", "hydra.job.name")


def hydra_config() -> Any | None:
    """The running job's Hydra config, or None (compose API, notebooks, tests)."""
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else None


def job_overrides() -> list[str]:
    """The job's own command-line overrides (in a sweep: this job's values), e.g. ``['router=glider', 'router.alpha=3']``."""
    hc = hydra_config()
    return list(hc.overrides.task) if hc is not None else []


def rerun_overrides() -> list[str]:
    """Overrides that re-create this job's config: its task overrides (all of them, so the config is the job's own)
    and the Hydra ones that do not start sweeps or choose directories. Add ``hydra.mode=RUN``."""
    hc = hydra_config()
    if hc is None:
        return []
    hydra_side = [o for o in hc.overrides.hydra if not o.lstrip("~+").startswith(_NOT_REPEATED)]
    task_side = [o for o in hc.overrides.task if not o.lstrip("~+").startswith(_NOT_REPEATED)]
    return [*hydra_side, *task_side]


def parse_overrides(overrides: list[str]) -> dict[str, str]:
    """``['router.alpha=3', 'router=glider']`` -> ``{'router.alpha': '3', 'router': 'glider'}`` (value kept as text)."""
    out = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep:
            out[key.lstrip("~+")] = value
    return out
