"""Bad released files at the CLI end (``experiment=t0_heldin`` as a user runs it, on the tiny byte-level T5):
one ``glider: error:`` line naming the file and the problem, exit 2, no traceback, and nothing written
(no library is created; a library that exists keeps its experts)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.data.fixtures import write_t0
from tests.library.release_files import EMBEDDINGS, random_embeddings, tiny_shapes, write_embedding_release, write_glider_release
from tests.reliability.cli import assert_clean_error, run_in_process
from tests.test_configs import compose_config

EXPERTS = ["p3agnews", "p3imdb"]


def _setup(root: Path) -> list[str]:
    shapes = tiny_shapes(compose_config(root, ["model=t5_tiny_bytes"]).model.config)
    released = root / "released"
    write_glider_release(released / "p3-lora-checkpoints", shapes, EXPERTS)
    write_embedding_release(released, {"t0-v3": random_embeddings(EXPERTS, seed=1), "t0-v4": random_embeddings(EXPERTS, seed=2)})
    data = write_t0(root / "t0", EXPERTS, n_train=4, n_eval=2)
    return ["experiment=t0_heldin", "model=t5_tiny_bytes", "model.pretrain.steps=0", "trainer=cpu", "trainer.progress_bar=false",
            "logger=csv", "eval.examples_per_task=2", "eval.heatmaps=false", f"paths.released_dir={released}",
            f"task.data_dir={data}", f"library.import_.tasks=[{','.join(EXPERTS)}]", f"library.dir={root / 'lib'}"]


def _nothing_written(library: Path) -> bool:
    """No index and no expert: only the build lock (taken before any stage) may exist."""
    return not (library / "library.json").exists() and not (library / "experts").exists()


def test_a_file_with_an_unexpected_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    overrides = _setup(tmp_path)
    bad = tmp_path / "released" / "p3-lora-checkpoints" / "p3imdb_best.pt"
    state = torch.load(bad, weights_only=True)
    state["base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_magnitude_vector.default.weight"] = torch.ones(4)
    torch.save(state, bad)
    assert_clean_error(run_in_process(tmp_path, overrides, capsys), str(bad), "unexpected key", "lora_magnitude_vector", "Nothing was imported")
    assert _nothing_written(tmp_path / "lib")  # p3agnews (read first, fine) was not written either


def test_a_pt_that_is_not_a_dict_of_tensors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    overrides = _setup(tmp_path)
    bad = tmp_path / "released" / "p3-lora-checkpoints" / "p3imdb_best.pt"
    torch.save({"state": "not tensors", "epoch": 3}, bad)
    assert_clean_error(run_in_process(tmp_path, overrides, capsys), str(bad), "not a state dict of tensors")
    assert _nothing_written(tmp_path / "lib")


def test_an_embedding_file_missing_a_task(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    overrides = _setup(tmp_path)
    folder = tmp_path / "released" / EMBEDDINGS / "t0-v4" / "checkpoints"
    torch.save(random_embeddings(["p3agnews"], seed=3), folder / "nomic_instruction_embedding.pt")
    outcome = run_in_process(tmp_path, overrides, capsys)
    assert_clean_error(outcome, "task 'p3imdb' has no embedding in", str(folder / "nomic_instruction_embedding.pt"), "queries' side")
    assert not list((tmp_path / "outputs").rglob("summary.json"))  # no results were written
