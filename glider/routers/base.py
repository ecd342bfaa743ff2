"""Scorer interfaces shared by every router.

A *local* scorer gives per-token logits in each adapted module from the token's hidden
state and a per-module key per expert (Phatgoose gate, Arrow prototype). A *global*
scorer gives one score vector per example (instruction similarity, retrieval, oracle),
and the same vector biases every module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

# torch nn.LayerNorm's default, as both original codes (Phatgoose, GLIDER) normalise tokens and gates
LN_EPS = 1e-5


@dataclass
class ExpertSide:
    """What global scorers know about the experts of the library (N experts, in library order)."""

    names: list[str]
    tasks: list[str]
    instruction_emb: Tensor | None = None  # [N, dim], L2-normalised
    input_embs: list[Tensor] | None = None  # per expert [M_i, dim], embeddings of training inputs
    probe_queries: list[Tensor] | None = None  # per expert [P_i, dim], query-side embeddings of held-back inputs
    # per expert [K, dim] unit embeddings of the K samples whose mean is its instruction
    # embedding (llm=none only; None where the instruction is one LLM-written text)
    instruction_samples: list[Tensor | None] | None = None

    @property
    def num_experts(self) -> int:
        return len(self.names)


@dataclass
class QueryBatch:
    """What global scorers know about the examples of one batch (B examples)."""

    tasks: list[str]
    instruction_emb: Tensor | None = None  # [B, dim] query-side instruction embedding
    input_emb: Tensor | None = None  # [B, dim] embedding of the input text itself
    extra: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.tasks)


class LocalScorer(ABC):
    """Per-token, per-module expert logits."""

    name: str = "local"
    key_name: str = ""  # which per-module key of the library it needs ("gate", "arrow")

    def prepare_keys(self, keys: Tensor) -> Tensor:  # [N, d_in] -> [N, d_in]
        """Transform the stored keys once, at injection time (e.g. normalise)."""
        return keys

    @abstractmethod
    def logits(self, x: Tensor, keys: Tensor) -> Tensor:
        """x: [..., T, d_in] tokens, keys: [..., N, d_in] prepared keys -> [..., T, N] logits.

        Leading batch dimensions broadcast (candidate routing passes [B, S, d] with [B, M, d]).
        """


class GlobalScorer(ABC):
    """Per-example expert scores, the same for every module and token of the example."""

    name: str = "global"

    def bind(self, experts: ExpertSide) -> None:
        """Receive the expert side once, before evaluation."""
        self.experts = experts

    def supports(self, task: str) -> bool:
        """Whether this scorer can score examples of ``task`` (oracle needs the task's own expert)."""
        return True

    @abstractmethod
    def scores(self, queries: QueryBatch) -> Tensor:
        """-> [B, N] scores."""


def layer_norm_no_affine(v: Tensor, eps: float = LN_EPS) -> Tensor:
    """LN(v) = (v - mean(v)) / sqrt(var(v) + eps) over the last dimension, no affine parameters.

    Half-precision inputs are normalised in float32. One fused kernel (``F.layer_norm``,
    biased variance as in the formula): a separate ``var`` pass cost 5x more on CPU.
    """
    v = v.float() if v.dtype in (torch.float16, torch.bfloat16) else v
    return F.layer_norm(v, (v.shape[-1],), eps=eps)
