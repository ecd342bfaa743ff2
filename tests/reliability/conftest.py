"""One tiny world (pretrained tiny backbone + a 3-expert library + one evaluation) built once per session
by a real ``python -m glider.run``; tests that change it work on a copy."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.cli import WORLD, run_in_process, run_process


@dataclass
class World:
    """A built glider root: ``root/outputs/{backbones,libraries,runs}``."""

    root: Path
    build_seconds: float = 0.0

    @property
    def library(self) -> Path:
        return self.root / "outputs" / "libraries" / "synthetic-t5_tiny-seed0"

    @property
    def run_dir(self) -> Path:
        """The run's folder: Hydra's dated one (a process) or ``root/run`` (in-process)."""
        (summary,) = [*self.root.glob("outputs/runs/*/*/summary.json"), *self.root.glob("run/summary.json")]
        return summary.parent

    def summary(self) -> dict:
        return json.loads((self.run_dir / "summary.json").read_text())

    def predictions(self) -> list[dict]:
        return [json.loads(line) for line in (self.run_dir / "predictions.jsonl").read_text().splitlines()]


def build_world(root: Path, capsys: pytest.CaptureFixture | None = None) -> World:
    """``python -m glider.run`` with the WORLD config under ``root``; in-process (``run_cli``) when given capsys."""
    start = time.monotonic()
    if capsys is None:
        proc = run_process(root, *WORLD)
        assert proc.returncode == 0, proc.stderr[-4000:]
    else:
        outcome = run_in_process(root, WORLD, capsys)
        assert outcome.code == 0, outcome.stderr[-4000:]
    return World(root, time.monotonic() - start)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Built once per session (about a minute on a busy 2-core machine)."""
    return build_world(tmp_path_factory.mktemp("world"))


def copy_world(world: World, dest: Path) -> World:
    """Backbone and library of ``world`` under a new root (file times kept); no runs."""
    for part in ("backbones", "libraries"):
        shutil.copytree(world.root / "outputs" / part, dest / "outputs" / part, symlinks=True)
    return World(dest)


@pytest.fixture
def world_copy(tiny_world: World, tmp_path: Path) -> World:
    return copy_world(tiny_world, tmp_path / "root")
