"""Bad libraries and inputs at the CLI end, on a copy of the session's tiny world: one ``glider: error:``
line naming the thing and the fix, exit 2, no traceback. A real process for the NaN gate (the issue's own
example); ``run_cli`` in-process (what ``python -m glider.run`` calls) for the rest: a glider process
needs a minute of imports on a busy machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from glider.library.library import ExpertLibrary
from glider.library.peft_format import read_peft_adapter, write_peft_adapter
from tests.reliability.cli import WORLD, assert_clean_error, run_in_process, run_process
from tests.reliability.conftest import World

pytestmark = pytest.mark.slow
EVAL = [*WORLD, "stage=eval"]
FIRST_MODULE = "encoder.block.0.layer.0.SelfAttention.q"


def test_truncated_safetensors_file(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    adapter = world_copy.library / "experts" / "thing_color" / "adapter_model.safetensors"
    adapter.write_bytes(adapter.read_bytes()[: adapter.stat().st_size // 2])
    outcome = run_in_process(world_copy.root, EVAL, capsys)
    assert_clean_error(outcome, f"Cannot read {adapter}", "the file is truncated or corrupted",
                       "Delete the expert's directory and rerun the stage that builds it")


def test_nan_gate_vector_fails_naming_file_and_module(world_copy: World) -> None:
    keys = world_copy.library / "experts" / "pair_first_kind" / "glider.safetensors"
    tensors = load_file(str(keys))
    tensors[f"gate.{FIRST_MODULE}"] = torch.full_like(tensors[f"gate.{FIRST_MODULE}"], float("nan"))
    save_file(tensors, str(keys))
    proc = run_process(world_copy.root, *EVAL)
    assert_clean_error(proc, f"{keys} holds NaN in 'gate.{FIRST_MODULE}'", "glider never routes on it")


def test_index_naming_a_missing_expert_then_the_named_fix_works(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    adapter = world_copy.library / "experts" / "thing_color" / "adapter_model.safetensors"
    adapter.unlink()
    outcome = run_in_process(world_copy.root, EVAL, capsys)
    assert_clean_error(outcome, "names expert 'thing_color' but", "is missing", "stage=experts")
    rebuilt = run_in_process(world_copy.root, [*WORLD, "stage=experts"], capsys)
    assert rebuilt.code == 0, rebuilt.stderr[-3000:]
    library = ExpertLibrary.open(world_copy.library)
    assert sorted(library.names) == ["pair_first_kind", "thing_color", "thing_kind"]
    assert adapter.is_file()


def test_expert_that_does_not_fit_the_backbone(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    directory = world_copy.library / "experts" / "thing_color"
    lora_A, lora_B, rank, alpha = read_peft_adapter(directory)  # as if trained on a backbone 8 wider
    wide_A = {m: torch.cat([a, torch.zeros(a.shape[0], 8)], dim=1) for m, a in lora_A.items()}
    write_peft_adapter(directory, wide_A, lora_B, rank, alpha, "other")
    outcome = run_in_process(world_copy.root, EVAL, capsys)
    assert_clean_error(outcome, f"Expert 'thing_color' does not fit the backbone: module '{FIRST_MODULE}'", "64x64",
                       "Use the backbone the expert was trained on")


def test_instruction_file_missing_an_experts_task(world_copy: World, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    table = tmp_path / "instructions.json"
    table.write_text(json.dumps({"thing_kind": "Name the kind of the thing.", "pair_first_kind": "Say which is bigger."}))
    embeddings = sorted((world_copy.library / "embeddings").rglob("*.safetensors"))
    before = {p: p.stat().st_mtime_ns for p in embeddings}
    outcome = run_in_process(world_copy.root, [*WORLD, "stage=describe", "llm=file", f"llm.path={table}"], capsys)
    assert_clean_error(outcome, "task 'thing_color' is not in instruction file(s)", str(table), "Fix the task name or llm.path")
    assert {p: p.stat().st_mtime_ns for p in embeddings} == before  # nothing half-described


def test_embedder_dimension_differs_from_the_library(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    outcome = run_in_process(world_copy.root, [*EVAL, "embedder._target_=tests.reliability.fakes.SmallEmbedder"], capsys)
    assert_clean_error(outcome, "embeddings of expert 'thing_kind' have dimension 384 but the embedder gives 16",
                       "rerun stage=describe with this embedder")


def test_nan_activations_stop_routing_naming_the_module(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    (backbone,) = (world_copy.root / "outputs" / "backbones").glob("*/model.safetensors")
    weights = load_file(str(backbone))  # a backbone whose activations overflow (e.g. in half precision)
    weights["shared.weight"] = torch.full_like(weights["shared.weight"], float("nan"))
    save_file(weights, str(backbone), metadata={"format": "pt"})
    outcome = run_in_process(world_copy.root, EVAL, capsys)
    assert_clean_error(outcome, f"Routing scores contain NaN in module {FIRST_MODULE}:")
