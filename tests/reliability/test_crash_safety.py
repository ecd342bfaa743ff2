"""A build killed mid-stage loses only the unfinished expert; two builds at once share the work."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from glider.library.library import ExpertLibrary
from tests.reliability.cli import REPO, TINY, glider_cmd, glider_env, run_in_process
from tests.reliability.conftest import World

pytestmark = pytest.mark.slow
FIVE = ["thing_kind", "thing_color", "pair_first_kind", "thing_origin", "check_alive"]


def _files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: (bytes, mtime_ns)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def _start(root: Path, *overrides: str) -> subprocess.Popen:
    proc = subprocess.Popen(glider_cmd(*overrides), cwd=REPO, env=glider_env(root), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(600, proc.kill)  # never hang the test suite
    watchdog.daemon = True
    watchdog.start()
    return proc


def _kill_when(proc: subprocess.Popen, line_end: str) -> str:
    """SIGKILL ``proc`` as soon as it prints a line ending with ``line_end``; returns its output so far."""
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.rstrip().endswith(line_end):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    return "".join(seen)


def test_killed_build_keeps_finished_experts_and_redoes_the_unfinished_one(world_copy: World, capsys: pytest.CaptureFixture,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    library, experts = world_copy.library, world_copy.library / "experts"
    built_before = _files(experts)
    overrides = [*TINY, f"task.expert_tasks=[{','.join(FIVE)}]", "stage=experts"]
    output = _kill_when(_start(world_copy.root, *overrides), "experts: [2/2] check_alive")  # thing_origin done, check_alive training
    assert "experts: training 2 of 5 experts" in output and "experts: [1/2] thing_origin done" in output
    index = json.loads((library / "library.json").read_text())
    assert [e["name"] for e in index["experts"]] == FIVE[:4]  # never the unfinished expert
    assert len(ExpertLibrary.open(library).load_all()) == 4  # every named expert is complete
    finished = _files(experts)
    # A kill can also land inside a write; leave exactly what that leaves behind:
    partial = experts / ".check_alive.k1l2m3n4.tmp"  # the expert's folder being written
    partial.mkdir()
    (partial / "adapter_model.safetensors").write_bytes(b"\x08\x00\x00")
    (library / ".library.json.a1b2c3d4.tmp").write_text('{"experts": [')  # the index being written
    halfway = experts / ".thing_origin.o1p2q3r4.old"  # between the two renames that replace a folder
    halfway.mkdir()
    (experts / "thing_origin").rename(halfway / "x")

    with caplog.at_level(logging.INFO, logger="glider"):  # the rerun: in-process (run_cli), a real process costs a minute
        rerun = run_in_process(world_copy.root, overrides, capsys)
    assert rerun.code == 0, rerun.stderr[-3000:]
    out = caplog.text
    assert "recovery: restored" in out and out.count("recovery: removed leftover") == 3
    assert "experts: training 1 of 5 experts" in out and "experts: [1/1] check_alive done" in out
    after = _files(experts)
    assert {k: v for k, v in after.items() if not k.startswith("check_alive/")} == finished  # same bytes, same mtimes
    assert {k: v for k, v in finished.items() if k in built_before} == built_before
    assert sorted(p.name for p in experts.iterdir()) == sorted(FIVE)  # no leftovers
    assert not [p for p in library.iterdir() if p.name.endswith(".tmp")]
    assert ExpertLibrary.open(library).names == FIVE


def test_two_builds_at_once_train_each_part_once(tmp_path: Path) -> None:
    overrides = [*TINY, "task.expert_tasks=[thing_kind,pair_first_kind]", "library.build_stages=[backbone,experts]", "router=base",
                 "task.eval_tasks=[thing_kind]", "eval.examples_per_task=2"]
    procs = [_start(tmp_path, *overrides) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-3000:]
    text = "".join(outputs)
    assert "is being built by another process" in text  # the second one waited ...
    assert text.count("backbone: pretraining") == 1  # ... and reused: one backbone,
    for task in ("thing_kind", "pair_first_kind"):  # each expert trained once
        assert text.count(f"] {task} done") == 1, task
    library = ExpertLibrary.open(tmp_path / "outputs" / "libraries" / "synthetic-t5_tiny-seed0")
    assert sorted(library.names) == ["pair_first_kind", "thing_kind"]
    assert len(library.load_all()) == 2
