"""router=lorahub's search for one task: nevergrad NGOpt over the composition weights (glider/routers/lorahub.py).

    objective(w) = L(w) + lambda * mean_i |w_i|,   w in [-b, b]^M,   S evaluations

L(w) is LoRAHub's few-shot loss: the composed expert is written into the task's slot, the
few-shot batches run teacher-forced through the routed model (each example routed to that slot),
and the batches' token-mean cross-entropies are summed and divided by the number of examples.
A candidate whose objective is not finite scores +inf and the search goes on; a search in which
every candidate is non-finite is an error naming the task. The weights kept are nevergrad's
recommendation (as LoRAHub: ``optimizer.minimize(...)``'s result).
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import nevergrad as ng
import numpy as np
import torch
from tqdm.auto import tqdm

from glider.data.collate import Seq2SeqCollator
from glider.data.spec import Example
from glider.errors import RoutingError
from glider.moe.lorahub_slots import SlotComposer
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers.base import QueryBatch
from glider.routers.lorahub import LoraHubSettings, l1_penalty


@dataclass
class SearchRecord:
    """One task's search: what was composed, how it got there, what it cost."""

    task: str
    seed: int
    key: str  # identity of the search's inputs (a stored record is reused only under the same key)
    experts: list[str]  # the M sampled experts, in sampled order (the weights' order)
    weights: list[float]  # w*, one per sampled expert
    objective: float  # objective at w* (few-shot loss + l1 term)
    losses: list[float]  # objective of every evaluated candidate, in order (inf where not finite)
    examples: int  # few-shot examples used
    example_split: str  # where they came from: "train" or "validation" (a held part, never evaluated)
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of the search when it ran
    forward_passes: int = 0  # example forward passes of the search: evaluated candidates x examples

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite values as the strings "inf" / "nan")."""
        data = asdict(self)
        data["losses"] = [_json_float(v) for v in self.losses]
        data["objective"] = _json_float(self.objective)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchRecord:
        data = dict(data)
        data["losses"] = [float(v) for v in data["losses"]]
        data["objective"] = float(data["objective"])
        return cls(**data)


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)  # "inf": JSON has no infinity


def search_seed(task: str, seed: int) -> int:
    """The optimizer's random seed for (task, seed): stable across processes and runs."""
    return int.from_bytes(hashlib.sha256(f"glider-lorahub/{task}/{seed}".encode()).digest()[:4], "little")


def ngopt_search(objective: Callable[[np.ndarray], float], num_weights: int, settings: LoraHubSettings, seed: int,
                 progress: tqdm | None = None) -> tuple[np.ndarray, list[np.ndarray], list[float]]:
    """NGOpt from w = 0 in [-b, b]^M: (recommended weights [M], evaluated candidates, their objective values)."""
    param = ng.p.Array(init=np.zeros(num_weights), lower=-settings.bound, upper=settings.bound)
    param.random_state = np.random.RandomState(seed)
    optimizer = ng.optimizers.NGOpt(parametrization=param, budget=settings.steps)
    candidates: list[np.ndarray] = []
    losses: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ng.errors.LossTooLargeWarning)  # nevergrad clips our +inf; we report it
        warnings.filterwarnings("ignore", category=UserWarning, module=r"scipy\..*")  # COBYLA's small-budget notes
        for _ in range(settings.steps):
            candidate = optimizer.ask()
            weights = np.array(candidate.value, dtype=np.float64)
            value = float(objective(weights))
            value = value if math.isfinite(value) else math.inf
            optimizer.tell(candidate, value)
            candidates.append(weights)
            losses.append(value)
            if progress is not None:
                progress.update(1)
                progress.set_postfix(best=f"{min(losses):.4f}")
        recommended = np.array(optimizer.provide_recommendation().value, dtype=np.float64)
    return recommended, candidates, losses


class FewShotLoss:
    """L(w) of one task on the routed model: the composition written into the task's slot, teacher-forced loss."""

    def __init__(self, routed: RoutedSeq2Seq, composer: SlotComposer, slot: int, task: str, examples: list[Example],
                 collator: Seq2SeqCollator, batch_size: int) -> None:
        self.routed, self.composer, self.slot, self.task = routed, composer, slot, task
        self.count = len(examples)
        device = next(routed.model.parameters()).device
        pairs = [(e.source, e.target) for e in examples]
        self.batches = [{k: v.to(device) for k, v in collator(pairs[i : i + batch_size]).items()} for i in range(0, len(pairs), batch_size)]
        self.forward_passes = 0

    @torch.no_grad()
    def __call__(self, weights: np.ndarray) -> float:
        self.composer.write(self.slot, weights.tolist())
        total = 0.0
        for batch in self.batches:
            rows = batch["input_ids"].shape[0]
            with self.routed.batch(QueryBatch(tasks=[self.task] * rows), rows):
                total += float(self.routed.model(**batch).loss.float())
            self.forward_passes += rows
        return total / self.count


def search_task(loss: FewShotLoss, settings: LoraHubSettings, seed: int, key: str, experts: list[str], example_split: str,
                progress: bool = True) -> SearchRecord:
    """Search one task's weights; the slot is left holding the recommended composition."""
    start = time.time()

    def objective(weights: np.ndarray) -> float:
        return loss(weights) + l1_penalty(weights.tolist(), settings.l1)

    bar = tqdm(total=settings.steps, desc=f"lorahub {loss.task}", leave=False, disable=not progress)
    try:
        weights, candidates, losses = ngopt_search(objective, len(experts), settings, search_seed(loss.task, seed), bar)
    finally:
        bar.close()
    if not any(math.isfinite(v) for v in losses):
        raise RoutingError(
            f"router=lorahub: every one of the {len(losses)} candidate compositions for task '{loss.task}' gave a non-finite "
            "few-shot loss (NaN/inf): check the library's experts (router=oracle or merged on this task) and the task's "
            "examples, or lower router.lorahub.bound."
        )
    evaluated = [v for c, v in zip(candidates, losses) if np.array_equal(c, weights)]
    value = evaluated[0] if evaluated else float(objective(weights))  # NGOpt recommends an evaluated candidate here
    loss.composer.write(loss.slot, weights.tolist())
    return SearchRecord(task=loss.task, seed=seed, key=key, experts=experts, weights=[float(w) for w in weights], objective=value,
                        losses=losses, examples=loss.count, example_split=example_split, settings=settings.as_dict(),
                        seconds=round(time.time() - start, 3), forward_passes=loss.forward_passes)
