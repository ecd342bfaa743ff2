"""Stage names, checked before the heavy imports (an unknown stage fails in a second)."""

from __future__ import annotations

from glider.errors import ConfigError

BUILD_STAGE_NAMES = ("backbone", "import", "experts", "gates", "prototypes", "describe")
STAGE_NAMES = (*BUILD_STAGE_NAMES, "eval", "all")


def check_stage(stage: str) -> None:
    """One clear error for a stage that does not exist."""
    if stage not in STAGE_NAMES:
        raise ConfigError(f"Unknown stage '{stage}'. Choose one of: {', '.join(STAGE_NAMES)}.")
