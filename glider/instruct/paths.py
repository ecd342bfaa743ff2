"""Where the project's config files and the shared data folder are."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = REPO_ROOT / "conf"


def shared_dir() -> Path:
    """``$GLIDER_SHARED`` if set, else ``../shared`` next to the repository root."""
    env = os.environ.get("GLIDER_SHARED")
    return Path(env).expanduser() if env else REPO_ROOT.parent / "shared"


def instructions_dir() -> Path:
    """The published GLIDER instruction files (``<shared>/data/glider-instructions``)."""
    return shared_dir() / "data" / "glider-instructions"
