"""router=lorahub's search: it finds the expert of the few-shot examples' task; non-finite candidates; records."""

from __future__ import annotations

import copy
import math
import random

import numpy as np
import pandas as pd
import pytest
import torch
from peft import LoraConfig, get_peft_model

from glider.data.collate import Seq2SeqCollator
from glider.data.spec import Example
from glider.data.synthetic.tokenizer import build_word_tokenizer
from glider.errors import RoutingError
from glider.library.expert import Expert
from glider.lit.lorahub_callback import log_searches
from glider.lit.lorahub_search import FewShotLoss, SearchRecord, ngopt_search, search_task
from glider.moe.inject import DEFAULT_TARGETS
from glider.moe.lorahub_slots import SlotComposer, composition_slots
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers.lorahub import LoraHubSettings
from glider.routers.registry import build_router
from glider.stages.experts_stage import extract_lora
from tests.conftest import random_expert

TOKENIZER = build_word_tokenizer([f"w{i}" for i in range(60)])
COLLATOR = Seq2SeqCollator(TOKENIZER, 32, 16)


def _task_examples(task: int, count: int, seed: int) -> list[Example]:
    """Toy task ``task``: any input of words w0..w29 -> the answer 'w<40+task> w<40+task>'."""
    rng = random.Random(seed)
    answer = f"w{40 + task} w{40 + task}"
    return [Example(task=f"t{task}", source=" ".join(f"w{rng.randrange(30)}" for _ in range(5)), target=answer) for _ in range(count)]


def _trained_expert(base: torch.nn.Module, task: int, steps: int = 40) -> Expert:
    """A LoRA (rank 4, alpha 8) trained with peft on its own toy task."""
    torch.manual_seed(task)
    model = get_peft_model(copy.deepcopy(base), LoraConfig(r=4, lora_alpha=8, target_modules=list(DEFAULT_TARGETS), lora_dropout=0.0))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-2)
    batch = COLLATOR([(e.source, e.target) for e in _task_examples(task, 32, seed=task)])
    for _ in range(steps):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    lora_A, lora_B = extract_lora(model)
    return Expert(name=f"e{task}", task=f"t{task}", rank=4, lora_alpha=8.0, lora_A=lora_A, lora_B=lora_B)


def _few_shot_loss(base: torch.nn.Module, experts: list[Expert], examples: list[Example], task: str = "target") -> FewShotLoss:
    router = build_router("lorahub", global_scorers={"lorahub": {}}, top_k=1)
    routed = RoutedSeq2Seq(copy.deepcopy(base), router, composition_slots(experts, [task]))
    composer = SlotComposer(routed.layers, experts, experts[0].scale)
    return FewShotLoss(routed, composer, 0, task, examples, COLLATOR, batch_size=32)


@pytest.fixture(scope="module")
def toy_library() -> tuple[torch.nn.Module, list[Expert]]:
    from tests.conftest import tiny_t5_config
    from transformers import T5ForConditionalGeneration

    torch.manual_seed(0)
    base = T5ForConditionalGeneration(tiny_t5_config()).eval()
    return base, [_trained_expert(base, task) for task in range(4)]


@pytest.mark.parametrize("task", [0, 2, 3])
def test_the_search_puts_most_weight_on_the_expert_of_the_examples_task(toy_library, task: int) -> None:
    base, experts = toy_library
    loss = _few_shot_loss(base, experts, _task_examples(task, 5, seed=100 + task))  # unseen inputs of that task
    settings = LoraHubSettings(examples=5, experts=4, steps=40)
    record = search_task(loss, settings, seed=0, key="k", experts=[e.name for e in experts], example_split="train", progress=False)
    mass = np.abs(record.weights)  # (-B)(-A) = BA: the sign of a lone expert's weight does not matter
    assert int(mass.argmax()) == task, record.weights
    assert mass[task] > 0.5 * mass.sum(), record.weights
    assert record.objective < record.losses[0] and record.objective == min(record.losses)
    assert record.forward_passes == 40 * 5 and len(record.losses) == 40
    own = np.zeros(4)
    own[task] = 1.0
    assert loss(own) < loss(np.zeros(4))  # the expert of the task is what lowers the few-shot loss


def test_the_search_is_reproducible(toy_library) -> None:
    base, experts = toy_library
    examples = _task_examples(1, 4, seed=7)
    settings = LoraHubSettings(examples=4, experts=4, steps=12)
    runs = [search_task(_few_shot_loss(base, experts, examples), settings, seed=3, key="k", experts=[e.name for e in experts],
                        example_split="train", progress=False) for _ in range(2)]
    assert runs[0].weights == runs[1].weights and runs[0].losses == runs[1].losses


def test_a_non_finite_candidate_scores_inf_and_the_search_goes_on() -> None:
    target = np.array([0.3, -0.2, 0.0])

    def objective(w: np.ndarray) -> float:
        return math.nan if w[0] > 0.4 else float(((w - target) ** 2).sum())

    settings = LoraHubSettings(experts=3, steps=30)
    weights, candidates, losses = ngopt_search(objective, 3, settings, seed=0)
    assert len(losses) == 30 and math.inf in losses and all(not math.isnan(v) for v in losses)
    assert any(math.isfinite(v) for v in losses[losses.index(math.inf) + 1:])  # it went on after the first +inf
    assert np.all(np.abs(np.array(candidates)) <= settings.bound) and np.abs(weights).max() <= settings.bound
    assert objective(weights) == min(losses)


def test_every_candidate_non_finite_is_an_error_naming_the_task(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i, with_keys=False) for i in range(2)]
    for module in experts[0].lora_A:
        experts[0].lora_A[module] = torch.full_like(experts[0].lora_A[module], math.inf)  # 0 * inf = NaN at every candidate
    loss = _few_shot_loss(tiny_t5, experts, _task_examples(0, 3, seed=1), task="broken_task")
    with pytest.raises(RoutingError, match="candidate compositions for task 'broken_task' gave a non-finite few-shot loss"):
        search_task(loss, LoraHubSettings(experts=2, steps=5), seed=0, key="k", experts=["e0", "e1"], example_split="train", progress=False)


def test_a_record_survives_json_with_infinite_losses() -> None:
    record = SearchRecord(task="t", seed=0, key="k", experts=["a", "b"], weights=[0.5, -1.0], objective=0.25,
                          losses=[1.0, math.inf, 0.25], examples=3, example_split="validation", seconds=0.5, forward_passes=9)
    data = record.as_dict()
    assert data["losses"] == [1.0, "inf", 0.25]
    assert SearchRecord.from_dict(data) == record


def test_the_searches_go_to_the_logger_as_metrics_and_tables() -> None:
    class Logger:
        def __init__(self) -> None:
            self.metrics: dict = {}
            self.tables: dict[str, pd.DataFrame] = {}

        def log_metrics(self, metrics: dict) -> None:
            self.metrics.update(metrics)

        def log_table(self, key: str, dataframe: pd.DataFrame) -> None:
            self.tables[key] = dataframe

    record = SearchRecord(task="t", seed=0, key="k", experts=["a", "b"], weights=[0.5, -1.0], objective=0.25,
                          losses=[1.0, math.inf, 0.25], examples=3, example_split="train")
    logger = Logger()
    log_searches(logger, [record])
    assert logger.metrics == {"lorahub/t/objective": 0.25}
    assert logger.tables["lorahub/weights"].to_dict("list") == {"task": ["t", "t"], "expert": ["a", "b"], "weight": [0.5, -1.0]}
    assert logger.tables["lorahub/loss_curves"]["objective"].tolist() == [1.0, math.inf, 0.25]


class _Strategy:
    """What the callback asks of Lightning's strategy: broadcast from rank 0 (here: rank 0's value, given)."""

    def __init__(self, from_rank0: object) -> None:
        self.from_rank0 = from_rank0
        self.sent: list[object] = []

    def broadcast(self, obj: object, src: int = 0) -> object:
        self.sent.append(obj)
        return self.from_rank0 if self.from_rank0 is not None else obj


def _trainer(rank0: bool, from_rank0: object = None) -> object:
    from types import SimpleNamespace

    return SimpleNamespace(is_global_zero=rank0, strategy=_Strategy(from_rank0), logger=None, progress_bar_callback=None)


def _callback(tiny_t5, tmp_path, experts: list[Expert], task: str = "t0"):
    from glider.lit.lorahub_callback import LoraHubSearchCallback, TaskSearch
    from types import SimpleNamespace

    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("lorahub", global_scorers={"lorahub": {}}),
                           composition_slots(experts, [task]))
    search = TaskSearch(task=task, slot=0, experts=list(range(len(experts))), examples=_task_examples(0, 3, seed=1),
                        example_split="train", key="k")
    callback = LoraHubSearchCallback([search], experts, experts[0].scale, LoraHubSettings(experts=len(experts), steps=4), 0,
                                     tmp_path, COLLATOR, 8)
    return callback, SimpleNamespace(routed=routed)


def test_other_ranks_never_search_they_write_rank_0s_weights(tiny_t5, tmp_path) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i, with_keys=False) for i in range(2)]
    record = SearchRecord(task="t0", seed=0, key="k", experts=["e0", "e1"], weights=[0.25, -1.0], objective=0.5, losses=[0.5],
                          examples=3, example_split="train")
    callback, module = _callback(tiny_t5, tmp_path, experts)
    callback.on_test_start(_trainer(rank0=False, from_rank0=record), module)
    assert callback.records == {"t0": record} and not (tmp_path / "lorahub").exists()
    layer = module.routed.layers[0]
    want = 0.25 * experts[0].lora_A[layer.module_name] - experts[1].lora_A[layer.module_name]
    torch.testing.assert_close(layer.experts.lora_A[0], want)


def test_a_user_error_in_rank_0s_search_stops_every_process_with_its_message(tiny_t5, tmp_path) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i, with_keys=False) for i in range(2)]
    for module in experts[0].lora_A:
        experts[0].lora_A[module] = torch.full_like(experts[0].lora_A[module], math.inf)
    callback, module = _callback(tiny_t5, tmp_path, experts)
    trainer = _trainer(rank0=True)
    with pytest.raises(RoutingError, match="for task 't0' gave a non-finite few-shot loss"):
        callback.on_test_start(trainer, module)  # rank 0: searches, fails, broadcasts the error, raises it
    assert len(trainer.strategy.sent) == 1 and isinstance(trainer.strategy.sent[0], RoutingError)
    error = RoutingError("router=lorahub: every one of the 4 candidate compositions for task 't0' gave a non-finite few-shot loss")
    callback, module = _callback(tiny_t5, tmp_path, experts)
    with pytest.raises(RoutingError, match="for task 't0'"):
        callback.on_test_start(_trainer(rank0=False, from_rank0=error), module)  # another rank: raises what rank 0 sent
