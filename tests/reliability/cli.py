"""Running glider the way a user does: a real ``python -m glider.run`` process, or the same
``run_cli`` the Hydra entry point calls, in-process (cheap: no 20 s of imports per run)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pytest

from glider.run import run_cli
from tests.test_configs import compose_config

REPO = Path(__file__).resolve().parents[2]

# The fast tiny configuration (pretrained tiny T5, short expert / gate training, 2 eval tasks).
TINY = [
    "model.pretrain.steps=30", "library.experts.steps=10", "library.gates.steps=5", "eval.examples_per_task=7",
    "task.eval_tasks=[thing_kind,pair_first_kind]", "trainer.progress_bar=false", "logger=csv",
]
WORLD_EXPERTS = ["thing_kind", "thing_color", "pair_first_kind"]
WORLD = [*TINY, f"task.expert_tasks=[{','.join(WORLD_EXPERTS)}]"]
# No library, random backbone: for errors that need only data and a model.
BARE = ["model.pretrain.steps=0", "library.build_stages=[backbone]", "router=base", "eval.examples_per_task=3", "task.eval_tasks=[thing_kind]",
        "trainer.progress_bar=false", "logger=csv", "eval.heatmaps=false"]


def overriding(base: Sequence[str], *extra: str) -> list[str]:
    """``base`` with ``extra`` appended; an extra override replaces the base one of the same key."""
    keys = {e.split("=", 1)[0] for e in extra}
    return [b for b in base if b.split("=", 1)[0] not in keys] + list(extra)


def glider_env(root: Path) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1", "GLIDER_ROOT": str(root),
            "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}


def glider_cmd(*overrides: str) -> list[str]:
    return [sys.executable, "-m", "glider.run", *overrides]


def run_process(root: Path, *overrides: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m glider.run`` with ``GLIDER_ROOT=root`` (outputs under root/outputs)."""
    return subprocess.run(glider_cmd(*overrides), cwd=REPO, env=glider_env(root), capture_output=True, text=True, timeout=timeout)


@dataclass
class Outcome:
    """What a user sees from one in-process run: exit code and stderr."""

    code: int
    stderr: str


def run_in_process(root: Path, overrides: Sequence[str], capsys: pytest.CaptureFixture) -> Outcome:
    """``run_cli`` (what ``python -m glider.run`` calls) on the composed config, outputs under ``root``."""
    cfg = compose_config(root, list(overrides))
    capsys.readouterr()
    try:
        run_cli(cfg)
        code = 0
    except SystemExit as exit_:
        assert exit_.__cause__ is None and exit_.__suppress_context__, "a user error must carry no traceback"
        code = int(exit_.code)
    return Outcome(code, capsys.readouterr().err)


def assert_clean_error(outcome: Outcome | subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2, one ``glider: error:`` line holding every fragment, no traceback."""
    code = outcome.code if isinstance(outcome, Outcome) else outcome.returncode
    stderr = outcome.stderr
    assert code == 2, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("glider: error: ")]
    assert len(lines) == 1, stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
