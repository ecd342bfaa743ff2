"""`python -m glider.run router=glider task=flan`: one clear error offline without data; runs with fixture data and a converted library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from glider.library.library import ExpertLibrary
from glider.pipeline import run_pipeline
from glider.stages.context import StageContext
from tests.data.fixtures import write_flan
from tests.library.release_files import tiny_shapes, write_phatgoose_release
from tests.test_configs import compose_config

REPO = Path(__file__).resolve().parents[1]
FLAN_KEYS = ["p3agnews", "flanv2gluemnli", "niv2translation"]


def glider_run(tmp_path: Path, *overrides: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled", "GLIDER_ROOT": str(tmp_path), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "glider.run", *overrides], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def test_offline_without_data_is_one_clear_error(tmp_path: Path) -> None:
    proc = glider_run(tmp_path, "router=glider", "task=flan", timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    assert "glider: error: No data for the FLAN tasks" in proc.stderr
    assert "task.data_dir" in proc.stderr and "data_dir/<key>/train.jsonl" in proc.stderr and "HF_HUB_OFFLINE" in proc.stderr


@pytest.mark.slow
def test_runs_with_fixture_data_and_a_converted_library(tmp_path: Path) -> None:
    data = write_flan(tmp_path / "flan", FLAN_KEYS, n=40, rank_keys=["p3agnews", "flanv2gluemnli"])
    checkpoint = write_phatgoose_release(tmp_path / "phatgoose.pt", tiny_shapes(compose_config(tmp_path, ["model=t5_tiny_bytes"]).model.config), n=3)
    common = ["task=flan", f"task.data_dir={data}", "model=t5_tiny_bytes", "model.pretrain.steps=0", f"library.dir={tmp_path / 'lib'}",
              "logger=csv", "trainer.progress_bar=false"]
    importing = compose_config(tmp_path, ["stage=import", *common, "library.import_.format=phatgoose", f"library.import_.path={checkpoint}",
                                          f"library.import_.tasks=[{','.join(FLAN_KEYS)}]"])
    run_pipeline(StageContext(importing))  # the converted library, in-process (outputs under tmp_path like the CLI's GLIDER_ROOT)
    proc = glider_run(tmp_path, "router=glider", *common, "eval.examples_per_task=2", "eval.max_new_tokens=2", "eval.heatmaps=false",
                      "library.describe.retrieval_inputs=4", "library.describe.probe_queries=0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for key in FLAN_KEYS:
        assert key in proc.stdout  # the results table names every task
    library = ExpertLibrary.open(tmp_path / "lib")
    assert library.names == FLAN_KEYS
    for name in FLAN_KEYS:  # kept as imported: not retrained by the experts stage, gates not retrained either
        fingerprints = library.card(name)["fingerprints"]
        assert "import" in fingerprints and "expert" not in fingerprints and "gates" not in fingerprints
