"""alpha=auto's utility cutoff draws its probe examples from the experts' training data, never from evaluation data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from glider.data.spec import Example
from glider.errors import ConfigError, DataError
from glider.lit.auto_alpha_utility import probe_examples


class _Source:
    """Training examples numbered by position (up to ``available``); knows only task 'a'."""

    def __init__(self, available: int = 1000) -> None:
        self.available = available
        self.calls: list[tuple[str, int, int]] = []

    def task(self, name: str) -> object:
        if name != "a":
            raise DataError(f"Unknown task '{name}'")
        return SimpleNamespace(name=name)

    def train_examples(self, task: str, n: int, seed: int) -> list[Example]:
        self.calls.append((task, n, seed))
        return [Example(task=task, uid=i, source=f"{task} {i}", target="x") for i in range(min(n, self.available))]


def _ctx(source: _Source, train_examples: int = 10, retrieval_inputs: int = 2) -> SimpleNamespace:
    cfg = OmegaConf.create({"task": {"name": "toy"},
                            "library": {"describe": {"k": 3, "retrieval_inputs": retrieval_inputs, "probe_queries": 4},
                                        "experts": {"train_examples": train_examples}}})
    return SimpleNamespace(cfg=cfg, source=source, seed=7)


def test_probes_are_the_training_examples_after_the_instruction_and_retrieval_samples() -> None:
    source = _Source()
    probes = probe_examples(_ctx(source), ["expert_a"], ["a"])
    assert [e.uid for e in probes[0]] == [5, 6, 7, 8]  # samples[K+R : K+R+P], K=3, R=2, P=4
    assert source.calls == [("a", 10, 7)]  # drawn as the experts stage drew them (same n, same seed)


def test_an_expert_whose_task_the_source_lacks_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="cutoff=balanced"):
        probe_examples(_ctx(_Source()), ["expert_b"], ["b"])


def test_too_few_training_examples_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="no probe examples"):
        probe_examples(_ctx(_Source(available=5)), ["expert_a"], ["a"])


def test_the_probes_run_where_evaluation_will_run(monkeypatch):
    from glider.lit.auto_alpha_utility import calibration_device

    def ctx(accelerator: str) -> SimpleNamespace:
        return SimpleNamespace(cfg=OmegaConf.create({"trainer": {"accelerator": accelerator}}))

    assert calibration_device(ctx("cpu")).type == "cpu"
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert calibration_device(ctx("gpu")).type == "cpu"  # no GPU here: the CPU
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert calibration_device(ctx("gpu")) == torch.device("cuda", 3)  # this DDP process's GPU
    assert calibration_device(ctx("cpu")).type == "cpu"
