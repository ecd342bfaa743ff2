"""Two runs started at the same moment get different run directories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scale.conftest import REPO


@pytest.mark.slow
def test_simultaneous_runs_never_share_a_directory(tmp_path: Path) -> None:
    env = {**os.environ, "GLIDER_ROOT": str(tmp_path), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"}
    command = [sys.executable, "-m", "glider.run", "stage=nothing", "logger=csv"]  # fails right after Hydra made the run dir
    procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2 and "Unknown stage 'nothing'" in err
    runs = sorted((tmp_path / "outputs" / "runs").glob("*/*"))
    assert len(runs) == 2 and all((r / ".hydra" / "config.yaml").is_file() for r in runs)  # <time with microseconds>_<router>
