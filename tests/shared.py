"""The read-only shared folder the tests use: ``$GLIDER_SHARED``, else ``../shared`` beside the repository.

It holds the published instruction files (``data/glider-instructions``) and the real BBH files
(``data/bbh``). The product never reads it: the tests point ``paths.instructions_dir`` there
(``GLIDER_INSTRUCTIONS_DIR``, set in ``tests/conftest.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("GLIDER_SHARED")
    return Path(env).expanduser() if env else REPO.parent / "shared"


def shared_instructions_dir() -> Path:
    return shared_dir() / "data" / "glider-instructions"
