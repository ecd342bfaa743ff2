"""Shared fixtures for glider.instruct tests (no network; the hub is offline)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from glider.instruct.paths import instructions_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def glider_instructions() -> Path:
    """The published instruction files (paths.instructions_dir = $GLIDER_INSTRUCTIONS_DIR, the shared copy in tests)."""
    folder = instructions_dir()
    if not (folder / "flan_instruction.json").is_file():
        pytest.fail(f"shared instruction files not found in {folder}; set GLIDER_SHARED or GLIDER_INSTRUCTIONS_DIR")
    return folder


@pytest.fixture(scope="session")
def minilm():
    """The packaged all-MiniLM-L6-v2 embedder, loaded once per session."""
    from glider.instruct.embedder import SentenceEmbedder

    embedder = SentenceEmbedder("minilm")
    embedder.model  # load now so tests time their own work only
    return embedder
