"""User errors at the command line end with one clear message, a non-zero exit and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from glider.errors import LibraryError
from glider.library.library import ExpertLibrary
from glider.library.stack import stack_experts
from glider.moe.inject import module_shapes
from tests.conftest import random_expert, tiny_t5_config

ROOT = Path(__file__).resolve().parents[1]


def run_glider(*overrides: str, tmp_path: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled", "GLIDER_ROOT": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "glider.run", *overrides, "logger=csv"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("group,name", [("router", "nope"), ("task", "nope"), ("llm", "nope"), ("embedder", "nope")])
def test_unknown_config_name_lists_the_options(group: str, name: str, tmp_path: Path) -> None:
    proc = run_glider(f"{group}={name}", tmp_path=tmp_path)
    assert proc.returncode != 0
    assert f"Could not find '{group}/{name}'" in proc.stderr
    assert f"Available options in '{group}'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_library_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-library"
    proc = run_glider("stage=eval", f"library.dir={missing}", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert f"Library directory '{missing}' does not exist" in proc.stderr
    assert "library.dir" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_stage(tmp_path: Path) -> None:
    proc = run_glider("stage=train", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "Unknown stage 'train'" in proc.stderr and "Traceback" not in proc.stderr


def test_expert_that_does_not_fit_the_backbone_names_module_and_shapes(tmp_path: Path) -> None:
    from transformers import T5ForConditionalGeneration

    small = T5ForConditionalGeneration(tiny_t5_config())
    wide_cfg = tiny_t5_config()
    wide_cfg.d_model = 24
    wide = T5ForConditionalGeneration(wide_cfg)
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(random_expert(wide, "wide_expert", "t0"))
    expert = ExpertLibrary.open(tmp_path / "lib").load("wide_expert")
    with pytest.raises(LibraryError) as err:
        stack_experts([expert], module_shapes(small), [])
    message = str(err.value)
    assert "wide_expert" in message and "encoder.block.0.layer.0.SelfAttention.q" in message
    assert "(4, 24)" in message and "8x16" in message


def test_library_index_naming_a_missing_expert(tmp_path: Path) -> None:
    from transformers import T5ForConditionalGeneration

    model = T5ForConditionalGeneration(tiny_t5_config())
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(random_expert(model, "e0", "t0"))
    (library.expert_dir("e0") / "adapter_model.safetensors").unlink()
    with pytest.raises(LibraryError, match="names expert 'e0' but .* is missing"):
        ExpertLibrary.open(tmp_path / "lib")
