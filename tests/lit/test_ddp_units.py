"""DDP pieces without processes: exact sharding, one-task metric shapes, the child command, config guards."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

import glider.data.eval_data as eval_data
import glider.hydra_job as hydra_job
from glider.data.eval_data import TaskBatchSampler
from glider.errors import ConfigError
from glider.lit.ddp import HydraJobDDPStrategy, child_command, ddp_job_scope
from glider.lit.task_scores import TaskScores
from glider.lit.trainer_factory import training_trainer

TASKS = ["a"] * 7 + ["b"] * 7 + ["c"] * 3  # 17 examples: odd, uneven per task


def _shards(monkeypatch: pytest.MonkeyPatch, tasks: list[str], batch_size: int, world: int) -> list[list[list[int]]]:
    shards = []
    for rank in range(world):
        monkeypatch.setattr(eval_data, "_rank_and_world", lambda rank=rank: (rank, world))
        sampler = TaskBatchSampler(tasks, batch_size)
        shards.append(list(sampler))
        assert len(sampler) == len(shards[-1])
    return shards


@pytest.mark.parametrize("world,batch_size", [(1, 3), (2, 3), (2, 32), (3, 2), (4, 5)])
def test_every_example_on_exactly_one_process(monkeypatch: pytest.MonkeyPatch, world: int, batch_size: int) -> None:
    shards = _shards(monkeypatch, TASKS, batch_size, world)
    seen = [i for shard in shards for batch in shard for i in batch]
    assert sorted(seen) == list(range(len(TASKS)))  # nothing padded, repeated or lost
    for shard in shards:
        assert shard, "every process gets at least one batch"
        for batch in shard:
            assert len({TASKS[i] for i in batch}) <= 1 and len(batch) <= batch_size  # never mixes tasks


def test_single_process_batches_are_the_union_of_the_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _shards(monkeypatch, TASKS, 3, 1)[0]
    shards = _shards(monkeypatch, TASKS, 3, 2)
    assert sorted(map(tuple, whole)) == sorted(tuple(b) for shard in shards for b in shard)  # same batches: same padding, same logits


def test_a_process_without_batches_gets_one_empty_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    shards = _shards(monkeypatch, ["a"], 4, 2)
    assert shards == [[[0]], [[]]]


def test_task_scores_keep_one_task_as_a_vector() -> None:
    scores = TaskScores(1)
    scores.update(torch.tensor([0, 0]), torch.tensor([1.0, 0.0]))
    mean, count = scores.per_task()
    assert mean.shape == (1,) and count.tolist() == [2] and mean.tolist() == [0.5]


def _fake_hydra(monkeypatch: pytest.MonkeyPatch, task: list[str], hydra: list[str]) -> None:
    hc = SimpleNamespace(overrides=SimpleNamespace(task=task, hydra=hydra), runtime=SimpleNamespace(output_dir="/out/multiruns/x/3_glider", cwd="/repo"),
                         job=SimpleNamespace(name="run", num=3))
    monkeypatch.setattr(hydra_job, "hydra_config", lambda: hc)
    monkeypatch.setattr("glider.lit.ddp.hydra_config", lambda: hc)


def test_child_reruns_only_this_job_in_run_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_hydra(monkeypatch, task=["router=glider", "router.alpha=3", "trainer=ddp_cpu", "hparams_search=glider_optuna"],
                hydra=["hydra.mode=MULTIRUN", "hydra/launcher=submitit_local", "hydra.sweep.dir=/x", "hydra.verbose=true"])
    command, cwd = child_command(1)
    assert command[1:3] == ["-m", "glider.run"] and cwd == "/repo"
    args = command[3:]
    assert "router.alpha=3" in args and "trainer=ddp_cpu" in args and "hydra.verbose=true" in args
    assert "hparams_search=glider_optuna" in args and "hydra.mode=RUN" in args  # the job's own config, never a sweep
    assert not any(a.startswith(("hydra.mode=MULTI", "hydra/launcher", "hydra.sweep")) for a in args)
    assert 'hydra.run.dir="/out/multiruns/x/3_glider"' in args and "hydra.output_subdir=null" in args and "hydra.job.name=run_rank1" in args


def test_child_command_needs_a_hydra_job() -> None:
    with pytest.raises(ConfigError, match="python -m glider.run"):
        child_command(1)


def test_parse_overrides() -> None:
    assert hydra_job.parse_overrides(["router.alpha=3", "+x=1", "router=glider", "flag"]) == {"router.alpha": "3", "x": "1", "router": "glider"}


def test_ddp_trainer_configs_build_the_hydra_job_strategy(tmp_path) -> None:
    from glider.lit.trainer_factory import evaluation_trainer
    from tests.test_configs import compose_config

    cfg = compose_config(tmp_path, ["trainer=ddp_cpu", "trainer.progress_bar=false"])
    strategy = evaluation_trainer(cfg.trainer, None).strategy
    assert isinstance(strategy, HydraJobDDPStrategy) and strategy.process_group_backend == "gloo"
    assert evaluation_trainer(compose_config(tmp_path, ["trainer=cpu"]).trainer, None).strategy.__class__ is not HydraJobDDPStrategy


def test_job_scope_restores_the_launch_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setenv("MASTER_ADDR", "10.0.0.1")
    with ddp_job_scope():
        os.environ.update(LOCAL_RANK="0", MASTER_ADDR="127.0.0.1")
    assert "LOCAL_RANK" not in os.environ and os.environ["MASTER_ADDR"] == "10.0.0.1"


def test_build_stages_train_in_one_process() -> None:
    with pytest.raises(ConfigError, match="train_devices=1"):
        training_trainer(OmegaConf.create({"accelerator": "cpu", "train_devices": 2}), max_steps=1)
