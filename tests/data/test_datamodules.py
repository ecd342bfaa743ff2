"""The LightningDataModules every stage reads: same batches as the stages built before, prepare once, exact DDP sharding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from glider.backbone import build_tokenizer
from glider.data.collate import EvalCollator, Seq2SeqCollator
from glider.data.datamodules import EvalDataModule, TrainingDataModule
from glider.data.eval_data import TaskBatchSampler
from glider.data.synthetic_source import SyntheticTaskSource
from glider.data.t0_source import T0TaskSource
from glider.errors import DataError
from tests.data.fixtures import write_t0

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zoo() -> SyntheticTaskSource:
    return SyntheticTaskSource()


def _batches(loader: DataLoader) -> list[list[int]]:
    return [batch["input_ids"].tolist() for batch in loader]


def test_training_batches_are_those_of_a_seeded_loader(zoo: SyntheticTaskSource) -> None:
    """The embedded default keeps its numbers: the DataModule yields the very batches the stages built by hand."""
    tokenizer = build_tokenizer("word", zoo.vocabulary())
    collator = Seq2SeqCollator(tokenizer, 64, 32)
    task = zoo.expert_tasks()[0].name
    data = TrainingDataModule(zoo, task, 40, seed=3, collator=collator, batch_size=8)
    data.prepare_data()
    data.setup("fit")
    examples = zoo.train_examples(task, 40, 3)
    assert data.examples == examples and data.pairs == [(e.source, e.target) for e in examples]
    by_hand = DataLoader(data.pairs, batch_size=8, shuffle=True, collate_fn=collator, generator=torch.Generator().manual_seed(3))
    assert _batches(data.train_dataloader()) == _batches(by_hand)
    gates = TrainingDataModule(zoo, task, 40, seed=4, collator=collator, batch_size=8, shuffle_seed=9)
    gates.setup("fit")
    assert gates.examples == zoo.train_examples(task, 40, 4)
    pretrain = TrainingDataModule(zoo, None, 30, seed=5, collator=collator, batch_size=8)
    pretrain.setup("fit")
    assert pretrain.pairs == zoo.pretrain_pairs(30, 5) and pretrain.examples is None


def test_eval_items_and_task_batches(zoo: SyntheticTaskSource) -> None:
    tasks = zoo.eval_tasks()[:3]
    collator = EvalCollator(build_tokenizer("word", zoo.vocabulary()), {t.name: i for i, t in enumerate(tasks)}, 64, 32)
    data = EvalDataModule(zoo, tasks, 5, seed=0, collator=collator, batch_size=2)
    data.prepare_data()
    data.setup("test")
    expected = [e for t in tasks for e in zoo.eval_examples(t.name, 5, 0)]
    assert [item["example"] for item in data.items] == expected
    batches = list(data.test_dataloader())
    assert [len(b["examples"]) for b in batches] == [2, 2, 1] * 3  # never mixing tasks
    assert all(len({e.task for e in b["examples"]}) == 1 for b in batches)
    sampler = TaskBatchSampler([e.task for e in expected], 2)
    assert [[e.uid for e in b["examples"]] for b in batches] == [[expected[i].uid for i in batch] for batch in sampler.batches]
    moved = data.transfer_batch_to_device(dict(batches[0]), torch.device("cpu"), 0)
    assert moved["examples"] == batches[0]["examples"]  # Example records stay as they are


def test_prepare_reads_the_data_once_and_a_data_error_is_raised_by_setup(tmp_path: Path) -> None:
    source = T0TaskSource(splits=["heldin"], tasks=["p3agnews", "p3imdb"], data_dir=str(write_t0(tmp_path, ["p3agnews"])),
                          only_present=False)
    tasks = source.tasks()
    collator = EvalCollator(build_tokenizer("byte", None), {t.name: i for i, t in enumerate(tasks)}, 64, 16)
    data = EvalDataModule(source, tasks, 10, seed=0, collator=collator, batch_size=4)
    data.prepare_data()  # p3imdb has no data: noted, left for setup (which every process runs)
    assert ("p3agnews", "test") in source._rows
    with pytest.raises(DataError, match="p3imdb"):
        data.setup("test")


@pytest.mark.slow
def test_prepare_data_runs_once_under_two_process_ddp(tmp_path: Path) -> None:
    data = write_t0(tmp_path / "data", ["p3agnews", "p3rte"], n_eval=7)  # agnews: 6 held-in rows; rte: 7 rows x 10 templates
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, str(REPO / "tests/data/ddp_eval_job.py"), str(out), str(data)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (out / "prepare.log").read_text().splitlines() == ["rank 0"]  # once, on local rank 0
    assert sorted((out / "setup.log").read_text().splitlines()) == ["rank 0", "rank 1"]  # every process builds its items
    expected = [tuple(x) for x in json.loads((out / "expected.json").read_text())]
    seen = [[tuple(x) for x in json.loads((out / f"seen_rank{r}.json").read_text())] for r in (0, 1)]
    assert len(expected) == 6 + 70 and all(seen)
    assert sorted(seen[0] + seen[1]) == sorted(expected)  # every example exactly once, no padding
