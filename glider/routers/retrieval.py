"""Retrieval (global) scorer.

    c_i = max_j cos(e(x), e(x_ij))

``x`` is the example's input, ``x_ij`` the stored training inputs of expert i. Used with
top-1 selection: each example goes to the expert whose training data it most resembles.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from glider.errors import ConfigError
from glider.routers.base import ExpertSide, GlobalScorer, QueryBatch


class RetrievalScorer(GlobalScorer):
    """Nearest stored training input decides the expert."""

    name = "retrieval"

    def bind(self, experts: ExpertSide) -> None:
        super().bind(experts)
        if experts.input_embs is None or any(e is None or e.numel() == 0 for e in experts.input_embs):
            raise ConfigError(
                "The retrieval router needs stored embeddings of each expert's training inputs; "
                "run the `describe` stage for this library and embedder."
            )
        sizes = [e.shape[0] for e in experts.input_embs]
        self._store = F.normalize(torch.cat([e.float() for e in experts.input_embs]), dim=-1)  # [sum M, dim]
        self._owner = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))  # [sum M]

    def scores(self, queries: QueryBatch) -> Tensor:  # -> [B, N]
        if queries.input_emb is None:
            raise ConfigError("The retrieval router needs input embeddings for each batch.")
        sims = F.normalize(queries.input_emb.float(), dim=-1) @ self._store.T  # [B, sum M]
        out = torch.full((sims.shape[0], self.experts.num_experts), -1.0)
        return out.scatter_reduce(1, self._owner.expand_as(sims), sims, reduce="amax", include_self=True)
