"""Instruction (global) scorer of GLIDER.

    c_i = cos(e(q), e(t_i))

``q`` is the query-side instruction (one per example, or one per task), ``t_i`` expert i's
own instruction, ``e`` the sentence embedder. Embeddings arrive L2-normalised, so the
cosine is a dot product.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from glider.errors import ConfigError
from glider.routers.base import GlobalScorer, QueryBatch


class InstructionScorer(GlobalScorer):
    """Cosine similarity between the query's instruction embedding and each expert's."""

    name = "instruction"

    def scores(self, queries: QueryBatch) -> Tensor:  # -> [B, N]
        if self.experts.instruction_emb is None:
            raise ConfigError(
                "The instruction router needs expert instruction embeddings; run the `describe` stage "
                "(stage=describe or stage=all) for this library and embedder."
            )
        if queries.instruction_emb is None:
            raise ConfigError("The instruction router needs query instruction embeddings for each batch.")
        q = F.normalize(queries.instruction_emb.float(), dim=-1)
        t = F.normalize(self.experts.instruction_emb.float(), dim=-1)
        if q.shape[-1] != t.shape[-1]:
            raise ConfigError(
                f"Query embeddings have dimension {q.shape[-1]} but the library's expert instruction "
                f"embeddings have {t.shape[-1]}: use the embedder the library was described with, or rerun "
                "stage=describe with this embedder."
            )
        return q @ t.T
