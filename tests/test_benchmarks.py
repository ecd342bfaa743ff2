"""The benchmarks run (dry runs with small shapes: numbers are not checked, only that every variant runs
and the table comes out). ``eval_throughput.py`` is the command a GPU machine runs with ``--device cuda``."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmark_module():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield lambda name: importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_eval_throughput_dry_run_on_cpu(benchmark_module, dtype: str, capsys: pytest.CaptureFixture) -> None:
    """The GPU command's code (bare, routed, no stats, loop, candidates) on CPU with t5_tiny and 4 experts."""
    eval_throughput = benchmark_module("eval_throughput")
    rows = eval_throughput.main(["--device", "cpu", "--dtype", dtype, "--models", "t5_tiny", "--experts", "4", "6", "--repeats", "1",
                                 "--loop", "--candidates", "2"])
    assert len(rows) == 4 and rows[0].startswith("| model | device, dtype |")
    for row, n in zip(rows[2:], (4, 6)):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[:4] == ["t5_tiny", f"cpu, {dtype}", str(n), "8"] and cells[4] == "36"
        assert len(cells) == 15 and all(re.fullmatch(r"[0-9.]+", c) for c in cells[6:]), row  # every variant timed
    assert "| t5_tiny | cpu" in capsys.readouterr().out


def test_moe_layer_benchmark_variants_agree(benchmark_module) -> None:
    """benchmarks/moe_layer.py's routed layer (the production class) and its loop variant give the same output."""
    import torch

    moe_layer = benchmark_module("moe_layer")
    for candidates in (False, True):
        layer = moe_layer.make_layer(12, 2, candidates, torch.device("cpu"), torch.Generator().manual_seed(0))
        x = torch.randn(256, moe_layer.D_IN)
        bias = torch.randn(2, 12)
        with torch.inference_mode(), layer.context.batch(2, bias=bias if candidates else None,
                                                         candidates=bias.topk(4).indices if candidates else None):
            torch.testing.assert_close(layer(x), moe_layer.loop_forward(layer, x), atol=1e-4, rtol=1e-4)
