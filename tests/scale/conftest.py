"""One tiny world for the scale tests: a library built once per session (3 experts, a few steps),
by a `trainer=ddp_cpu` run that also evaluates it on 2 processes. Every run is a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EVAL_TASKS = ["thing_kind", "pair_first_kind", "check_big_animal"]
TINY = [
    "model.pretrain.steps=30", "library.experts.steps=10", "library.gates.steps=5",
    "task.expert_tasks=[thing_kind,pair_first_kind,check_red]", f"task.eval_tasks=[{','.join(EVAL_TASKS)}]",
    "eval.examples_per_task=7", "eval.batch_size=3",  # 21 examples in 9 batches: odd, uneven across 2 processes
    "trainer.progress_bar=false",
]


def glider(root: Path, *args: str, module: str = "glider.run", wandb: str = "disabled", timeout: int = 900) -> subprocess.CompletedProcess:
    """``python -m <module> args`` with outputs under ``root``, offline, one thread per process; must succeed."""
    env = {**os.environ, "GLIDER_ROOT": str(root), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "WANDB_MODE": wandb, "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc


def run_dirs(root: Path) -> list[Path]:
    """Single-run directories (outputs/runs/<date>/<time>_<router>) with a summary, oldest first."""
    return sorted((p.parent for p in (root / "outputs" / "runs").glob("*/*/summary.json")), key=lambda p: p.name)


def newest_sweep(root: Path, marker: str = "multirun.yaml") -> Path:
    """The newest multirun directory that holds ``marker``."""
    sweeps = sorted((p.parent for p in (root / "outputs" / "multiruns").glob(f"*/*/{marker}")), key=lambda p: (p.parent.name, p.name))
    assert sweeps, f"no multirun with {marker} under {root}"
    return sweeps[-1]


def job_dirs(sweep: Path) -> list[Path]:
    return sorted(p.parent for p in sweep.glob("*/summary.json"))


@dataclass
class World:
    root: Path
    ddp_run: Path  # stage=all trainer=ddp_cpu: built the library, evaluated on 2 processes


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("scale")
    glider(root, "stage=all", "trainer=ddp_cpu", "logger=csv", *TINY)
    (run,) = run_dirs(root)
    return World(root=root, ddp_run=run)
