"""The expert side of the global scorers: what they know of every expert of the library.

From the library's embeddings (written by the describe stage: instruction, retrieval inputs,
probe queries) or, with ``llm=embeddings``, from the released expert-side file.
"""

from __future__ import annotations

from typing import Any

import torch
from omegaconf import DictConfig

from glider.errors import ConfigError, LibraryError
from glider.instruct.embedding_file import gives_embeddings
from glider.instruct.sources import make_embedder, make_writer
from glider.routers.base import ExpertSide
from glider.routers.router import Router


def needs_embeddings(router: Router) -> bool:
    """Whether the router's global scorers compare embeddings (instruction, retrieval)."""
    return router.mode == "routed" and bool(router.global_scorer_names() & {"instruction", "retrieval"})


def expert_side_for(cfg: DictConfig, router: Router, library: Any) -> ExpertSide:
    """The expert side the router needs: names and tasks, plus embeddings for embedding scorers and alpha=auto."""
    auto_alpha = router.mode == "routed" and router.auto_alpha is not None
    if needs_embeddings(router) or auto_alpha:
        writer = make_writer(cfg)
        if gives_embeddings(writer):
            return expert_side_from_file(writer, router, library, auto_alpha)
        embedder = make_embedder(cfg)
        return load_expert_side(library, embedder.name, embedder.dim, router.global_granularity)
    return ExpertSide(names=list(library.names), tasks=list(library.tasks))


def expert_side_from_file(source: Any, router: Router, library: Any, auto_alpha: bool) -> ExpertSide:
    """llm=embeddings: the experts' instruction embeddings straight from the expert-side file."""
    if auto_alpha:
        raise ConfigError("router.alpha=auto calibrates on the embeddings of described experts (probe queries), which "
                          "llm=embeddings does not have: give a number (the paper: router.alpha=100 held-in, 3 held-out).")
    if "retrieval" in router.global_scorer_names():
        raise ConfigError("router=retrieval compares inputs with the experts' training inputs, which llm=embeddings does not "
                          "embed: use llm=none/file/openai/hf with it.")
    return ExpertSide(names=list(library.names), tasks=list(library.tasks), instruction_emb=source.expert_embeddings(library.tasks))


def load_expert_side(library: Any, embedder_name: str, embedder_dim: int, granularity: str) -> ExpertSide:
    """Instruction / retrieval / probe embeddings of every expert, for the global scorers."""
    instruction, inputs, probes, samples = [], [], [], []
    for name in library.names:
        tensors = library.load_embeddings(embedder_name, name)
        if tensors is None:
            raise LibraryError(
                f"Expert '{name}' has no '{embedder_name}' embeddings: run stage=describe with embedder={embedder_name} "
                f"for library {library.root}."
            )
        meta = library.embedding_metadata(embedder_name, name) or {}
        if int(meta.get("dim", tensors["instruction"].shape[-1])) != embedder_dim or tensors["instruction"].shape[-1] != embedder_dim:
            raise LibraryError(
                f"The library's '{embedder_name}' embeddings of expert '{name}' have dimension "
                f"{tensors['instruction'].shape[-1]} but the embedder gives {embedder_dim}: rerun stage=describe with "
                "this embedder (or use the embedder the library was described with)."
            )
        instruction.append(tensors["instruction"][0])
        inputs.append(tensors["inputs"])
        probes.append(tensors.get(f"probe_{granularity}", torch.zeros(0, embedder_dim)))
        samples.append(tensors.get("instruction_samples"))
    return ExpertSide(
        names=list(library.names),
        tasks=list(library.tasks),
        instruction_emb=torch.stack(instruction) if instruction else None,
        input_embs=inputs,
        probe_queries=probes,
        instruction_samples=samples,
    )
