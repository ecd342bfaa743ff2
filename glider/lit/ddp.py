"""Lightning DDP for glider jobs: the extra processes of a node re-run *this Hydra job*, alone.

Lightning's DDP (``strategy=ddp``, no cluster launcher) starts processes 1..N-1 of a node by
re-running the command line. Under a Hydra multirun that command line is the whole sweep
(``-m router.alpha=1,3,...``) and under submitit it is submitit's own module, so each child
would start a sweep of its own. Here each child runs the current job only, in run mode and
in the job's own output directory::

    python -m glider.run <the job's overrides> hydra.mode=RUN hydra.run.dir=<job dir> hydra.output_subdir=null

When the processes come from outside (SLURM tasks, torchrun), Lightning finds them in the
environment and nothing is launched here.

Lightning has no public hook for the children's command line, so :class:`HydraJobLauncher`
subclasses its private ``_SubprocessScriptLauncher`` (and overrides ``_call_children_scripts``
and ``DDPStrategy._configure_launcher``); tests/scale/test_ddp_equivalence.py runs it, so a Lightning release
that changes them fails there first.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import Any, Iterator

import torch.distributed as dist
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

from glider.errors import ConfigError
from glider.hydra_job import hydra_config, rerun_overrides

# environment a DDP launch sets in the launching process (restored after each job of a multirun)
LAUNCH_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE", "OMP_NUM_THREADS")


def child_command(local_rank: int) -> tuple[list[str], str]:
    """(command, working directory) that re-runs the current Hydra job as process ``local_rank``."""
    hc = hydra_config()
    if hc is None:
        raise ConfigError(
            "A DDP trainer (trainer=ddp / ddp_cpu) starts its extra processes by re-running the glider job: run it as "
            "`python -m glider.run ...`, or start every process yourself (torchrun, srun) so that Lightning finds them."
        )
    job_dir = str(hc.runtime.output_dir).replace("\\", "\\\\").replace('"', '\\"')
    command = [sys.executable, "-m", "glider.run", *rerun_overrides(), "hydra.mode=RUN",  # RUN even if a config asks for MULTIRUN
               f'hydra.run.dir="{job_dir}"', "hydra.output_subdir=null", f"hydra.job.name={hc.job.name}_rank{local_rank}"]
    return command, str(hc.runtime.cwd)


class HydraJobLauncher(_SubprocessScriptLauncher):
    """Lightning's per-node script launcher whose children re-run the current Hydra job (see module docstring)."""

    def _call_children_scripts(self) -> None:
        self._check_can_spawn_children()
        env = self.cluster_environment
        os.environ.update({
            "MASTER_ADDR": env.main_address,
            "MASTER_PORT": str(env.main_port),
            "NODE_RANK": str(env.node_rank()),
            "LOCAL_RANK": str(env.local_rank()),
            "WORLD_SIZE": str(self.num_processes * self.num_nodes),
        })
        for local_rank in range(1, self.num_processes):
            command, cwd = child_command(local_rank)
            self.procs.append(subprocess.Popen(command, env={**os.environ, "LOCAL_RANK": str(local_rank)}, cwd=cwd))


class HydraJobDDPStrategy(DDPStrategy):
    """``DDPStrategy`` that launches its node-local processes with :class:`HydraJobLauncher`."""

    def _configure_launcher(self) -> None:
        super()._configure_launcher()
        if type(self._launcher) is _SubprocessScriptLauncher:
            self._launcher = HydraJobLauncher(self.cluster_environment, self.num_processes, self.num_nodes)


def wait_for_children(trainer: Any, timeout_s: float = 600.0) -> None:
    """Wait for the processes this process launched (their job ends right after the last collective)."""
    launcher = getattr(trainer.strategy, "launcher", None)
    for rank, proc in enumerate(getattr(launcher, "procs", []), 1):
        code = proc.wait(timeout=timeout_s)
        if code != 0:
            raise RuntimeError(f"DDP process {rank} exited with code {code}; its log is <run dir>/*_rank{rank}.log")


@contextlib.contextmanager
def ddp_job_scope() -> Iterator[None]:
    """Leave the process as the job found it: no process group, launch environment restored.

    A multirun runs its jobs one after another in one process; each DDP job must start its own
    processes on a fresh port instead of finding the previous job's group and environment.
    """
    before = {key: os.environ.get(key) for key in LAUNCH_ENV}
    try:
        yield
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
