"""Fixtures for the benchmark data tests (offline: the hub is never contacted)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder with the published instruction files (``$GLIDER_SHARED`` or ../shared)."""
    from tests.shared import shared_dir as locate

    folder = locate()
    if not (folder / "data/glider-instructions/flan_instruction.json").is_file():
        pytest.fail(f"shared instruction files not found in {folder}; set GLIDER_SHARED")
    return folder
