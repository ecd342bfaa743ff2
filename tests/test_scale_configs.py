"""Configs for scale: DDP trainers, Optuna search, submitit launchers, run directories, expert subsets, the notebook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from glider.data.synthetic_source import SyntheticTaskSource
from glider.errors import DataError

CONF = Path(__file__).resolve().parents[1] / "conf"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_routing.ipynb"


def compose_with_hydra(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose(config_name="config", overrides=overrides, return_hydra_config=True)


@pytest.mark.filterwarnings("ignore:(?s).*ConfigStore schema:UserWarning")
def test_slurm_launcher_fields_follow_the_trainer() -> None:
    cfg = compose_with_hydra(["hydra/launcher=submitit_slurm", "trainer=ddp", "trainer.devices=8", "trainer.num_nodes=2",
                              "hydra.launcher.partition=gpu"])
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=False)
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert launcher["partition"] == "gpu" and launcher["timeout_min"] > 0 and launcher["array_parallelism"] > 0
    assert cfg.hydra.launcher.gpus_per_node == 8 and cfg.hydra.launcher.tasks_per_node == 8 and cfg.hydra.launcher.nodes == 2


@pytest.mark.filterwarnings("ignore:(?s).*ConfigStore schema:UserWarning")
def test_local_launcher_runs_one_process_per_job() -> None:
    cfg = compose_with_hydra(["hydra/launcher=submitit_local"])
    assert cfg.hydra.launcher._target_.endswith("LocalLauncher") and cfg.hydra.launcher.tasks_per_node == 1


def test_optuna_search_maximises_in_memory() -> None:
    cfg = compose_with_hydra(["hparams_search=glider_optuna"])
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and str(sweeper.direction) in ("maximize", "Direction.maximize")
    assert sweeper.storage is None and sweeper.n_jobs == 1 and set(sweeper.params) == {"router.alpha", "router.top_k"}
    assert cfg.objective == "tuning" and cfg.eval.tuning.examples_per_task == 50 and cfg.router.name == "glider"  # never the evaluation examples


@pytest.mark.parametrize("trainer,devices,backend", [("ddp", 4, "nccl"), ("ddp_cpu", 2, "gloo")])
def test_ddp_trainers(trainer: str, devices: int, backend: str) -> None:
    cfg = compose_with_hydra([f"trainer={trainer}"])
    assert cfg.trainer.strategy._target_ == "glider.lit.ddp.HydraJobDDPStrategy" and cfg.trainer.devices == devices
    assert cfg.trainer.strategy.process_group_backend == backend
    assert cfg.trainer.train_devices == 1


def test_run_and_sweep_directories_are_unique_per_job() -> None:
    cfg = compose_with_hydra([])
    run_dir = OmegaConf.to_container(cfg.hydra.run, resolve=False)["dir"]
    sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=False)
    assert "%f" in run_dir and "%f" in sweep["dir"]  # microseconds: two runs started in the same second differ
    assert "${hydra.job.num}" in sweep["subdir"]
    assert str(cfg.hydra.sweep.dir).startswith(str(Path.cwd()))  # resolvable before any job exists (multirun)


def test_expert_tasks_subset_and_default() -> None:
    assert len(SyntheticTaskSource().expert_tasks()) == 16
    assert [t.name for t in SyntheticTaskSource(expert_tasks=["pair_first_kind", "thing_kind"]).expert_tasks()] == ["pair_first_kind", "thing_kind"]
    with pytest.raises(DataError, match="task.expert_tasks names \\['check_big_animal'\\]"):
        SyntheticTaskSource(expert_tasks=["check_big_animal"]).expert_tasks()


def test_notebook_is_stored_without_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
