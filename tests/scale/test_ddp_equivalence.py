"""trainer=ddp_cpu (2 gloo processes) and trainer=cpu evaluate the same library to the same numbers."""

from __future__ import annotations

import json
import re

import pytest

from tests.scale.conftest import EVAL_TASKS, TINY, World, glider, run_dirs


@pytest.mark.slow
def test_ddp_cpu_and_cpu_give_identical_metrics_and_counts(world: World) -> None:
    glider(world.root, "stage=eval", "trainer=cpu", "logger=csv", *TINY)
    cpu_run = [d for d in run_dirs(world.root) if d != world.ddp_run][-1]
    ddp, cpu = (json.loads((d / "summary.json").read_text()) for d in (world.ddp_run, cpu_run))
    assert (ddp["world_size"], cpu["world_size"]) == (2, 1)
    assert ddp["counts"] == cpu["counts"] == {t: 7 for t in EVAL_TASKS}  # 21 examples: not divisible by 2
    assert ddp["scores"] == cpu["scores"]
    assert (ddp["heldin_avg"], ddp["heldout_avg"]) == (cpu["heldin_avg"], cpu["heldout_avg"])
    assert (world.ddp_run / "results.csv").read_text() == (cpu_run / "results.csv").read_text()
    assert (world.ddp_run / "predictions.jsonl").read_text() == (cpu_run / "predictions.jsonl").read_text()  # same batches, same outputs


@pytest.mark.slow
def test_ddp_run_built_once_and_split_the_examples(world: World) -> None:
    parent, child = ((world.ddp_run / name).read_text() for name in ("run.log", "run_rank1.log"))
    assert "experts: training 3 of 3 experts" in parent and "experts: all 3 experts are current" in child  # one process built
    scored = [int(re.search(rf"process {rank} of 2 scored (\d+) examples", log).group(1)) for rank, log in ((0, parent), (1, child))]
    assert sum(scored) == 21 and min(scored) > 0
    assert "run_rank1" not in (world.ddp_run / ".hydra" / "hydra.yaml").read_text()  # the child left the job's Hydra files alone
