"""Where the project's config files and the published instruction files are."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = REPO_ROOT / "conf"
INSTRUCTIONS_ENV = "GLIDER_INSTRUCTIONS_DIR"


def instructions_dir() -> Path:
    """The published GLIDER instruction files: ``$GLIDER_INSTRUCTIONS_DIR``, else ``<repo>/data/glider-instructions``.

    The same default as the configs' ``paths.instructions_dir`` (git-ignored; docs/paper-parity.md
    says how to fill it: ``python -m glider.instruct.install_instructions``).
    """
    env = os.environ.get(INSTRUCTIONS_ENV)
    return Path(env).expanduser() if env else REPO_ROOT / "data" / "glider-instructions"
