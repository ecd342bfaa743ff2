"""Stage `describe`: expert-side instructions (LLM from K sample inputs) and their embeddings.

For every expert, from the sample inputs kept in its card:
  chosen        = K of samples[:K+R] (library.describe.sample_choice: `diverse` farthest-point
                  on the embedder, or `first` K; see glider/instruct/sample_choice.py)
  instruction   = LLM(chosen)                            -> embedded: "instruction" [1, dim]
                  (llm=none, whose "instruction" is the samples themselves: the mean of the
                   K samples' unit-normalised embeddings, not the embedding of their concatenation;
                   those K are kept too: "instruction_samples" [K, dim], for alpha=auto's calibration)
  inputs        = samples[K : K+R]                        -> embedded: "inputs" [R, dim] (retrieval store)
  probe queries = query-side instructions of samples[K+R : K+R+P], per example and per task (groups of K)
                                                           -> "probe_example" [P, dim], "probe_task" [P/K, dim]
Probe queries calibrate router.alpha=auto (expert side only).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from glider.backbone import fingerprint
from glider.errors import LibraryError
from glider.instruct.embedder import check_finite_embeddings
from glider.instruct.embedding_file import gives_embeddings
from glider.instruct.sample_choice import check_sample_choice, choose_samples
from glider.instruct.sources import make_embedder, make_writer
from glider.stages.context import StageContext

log = logging.getLogger("glider")

# bump when the way instructions are embedded changes: every library is re-described once
EMBEDDING_RULE = "samples-mean-v2/choice-v1/samples-kept-v1"


def describe_fingerprint(ctx: StageContext, card: dict) -> str:
    fps = card.get("fingerprints", {})
    return fingerprint({
        "expert": fps.get("expert") or fps.get("import", ""),
        "samples": fingerprint(card.get("samples", [])),
        "llm": OmegaConf.to_container(ctx.cfg.llm, resolve=True),
        "embedder": OmegaConf.to_container(ctx.cfg.embedder, resolve=True),
        "describe": OmegaConf.to_container(ctx.cfg.library.describe, resolve=True),
        "embedding_rule": EMBEDDING_RULE,
    })


def embed_instruction_samples(writer: Any, embedder: Any, samples: list[str]) -> torch.Tensor | None:
    """[K, dim] unit embeddings of the samples that *are* the instruction (llm=none), else None."""
    if getattr(writer, "instruction_is_samples", False) and samples:
        return F.normalize(embedder.encode(list(samples), kind="document").float(), dim=-1)
    return None


def embed_instruction(
    writer: Any, embedder: Any, instruction: str, samples: list[str], sample_embs: torch.Tensor | None = None
) -> torch.Tensor:
    """[1, dim] embedding of an expert's instruction.

    A writer whose instruction *is* its samples (``instruction_is_samples``, i.e. llm=none)
    is embedded as the mean of the samples' unit-normalised embeddings: one centroid of
    the task's inputs, which identifies tasks better than one embedding of the joined text
    (synthetic zoo, MiniLM, held-in eval inputs: 0.95 vs 0.91 top-1).
    """
    if sample_embs is None:
        sample_embs = embed_instruction_samples(writer, embedder, samples)
    if sample_embs is not None:
        return sample_embs.mean(dim=0, keepdim=True)
    return embedder.encode([instruction], kind="document")


def embed_pool(embedder: Any, samples: list[str], size: int) -> torch.Tensor | None:
    """Embeddings of samples[:size] (the candidates for the K instruction samples and the retrieval store)."""
    return embedder.encode(list(samples[:size]), kind="document") if samples else None


def retrieval_inputs(embedder: Any, pool: torch.Tensor | None, samples: list[str], k: int, n_inputs: int, instruction: str) -> torch.Tensor:
    """[R, dim] retrieval store: samples[K : K+R], or the K samples, or (no samples: imported) the instruction."""
    if pool is not None and len(samples) > k:
        return pool[k : k + n_inputs]
    return embedder.encode(samples[:k] or [instruction], kind="document")


def run_describe(ctx: StageContext, writer: Any = None, embedder: Any = None) -> None:
    """Write and embed instructions for experts whose description is missing or stale."""
    library = ctx.open_library()
    writer = writer or make_writer(ctx.cfg)
    if gives_embeddings(writer):
        log.info("describe: llm=embeddings reads the experts' embeddings from %s at evaluation; nothing to describe", writer.experts_path)
        return
    embedder = embedder or make_embedder(ctx.cfg)
    cfg = ctx.cfg.library.describe
    k, n_inputs, n_probe = int(cfg.k), int(cfg.retrieval_inputs), int(cfg.probe_queries)
    todo = []
    for name in library.names:
        meta = library.embedding_metadata(embedder.name, name)
        if not meta or meta.get("fingerprint") != describe_fingerprint(ctx, library.card(name)):
            todo.append(name)
    if not todo:
        log.info("describe: %d experts already described with llm=%s embedder=%s", len(library), writer.name, embedder.name)
        return
    log.info("describe: %d expert(s) with llm=%s, embedder=%s, K=%d", len(todo), writer.name, embedder.name, k)
    cards = {name: library.card(name) for name in todo}
    query_writer = writer.for_queries()  # probe queries are query-side instructions
    needs_samples = getattr(writer, "needs_samples", True)  # llm=file looks instructions up by task name
    for name, card in cards.items():
        if needs_samples and len(card.get("samples", [])) < k:
            raise LibraryError(
                f"Expert '{name}' keeps {len(card.get('samples', []))} sample inputs in its card.json but describe needs "
                f"K={k}. Re-import it with samples: library.import_.samples=true (and library.import_.samples_source=... when the "
                f"run's task source lacks its task), or lower library.describe.k."
            )
    how = check_sample_choice(str(cfg.get("sample_choice", "first")))  # before any embedding work
    pools = {name: embed_pool(embedder, card.get("samples", []), k + n_inputs) for name, card in cards.items()}
    chosen = {name: choose_samples(card.get("samples", []), pools[name], k, how) for name, card in cards.items()}
    instructions = writer.write_many([(chosen[name], card.get("task", name)) for name, card in cards.items()])
    for (name, card), instruction in zip(cards.items(), instructions):
        samples = card.get("samples", [])
        probes = samples[k + n_inputs : k + n_inputs + n_probe]
        task = card.get("task", name)
        probe_example = query_writer.write_many([([s], task) for s in probes]) if probes else []
        probe_task = query_writer.write_many([(probes[i : i + k], task) for i in range(0, len(probes) - k + 1, k)]) if len(probes) >= k else []
        instruction_samples = embed_instruction_samples(writer, embedder, chosen[name])
        tensors = {
            "instruction": embed_instruction(writer, embedder, instruction, chosen[name], instruction_samples),
            "inputs": retrieval_inputs(embedder, pools[name], samples, k, n_inputs, instruction),
        }
        if instruction_samples is not None:
            tensors["instruction_samples"] = instruction_samples
        if probe_example:
            tensors["probe_example"] = embedder.encode(probe_example, kind="query")
        if probe_task:
            tensors["probe_task"] = embedder.encode(probe_task, kind="query")
        for key, value in tensors.items():
            check_finite_embeddings(value, embedder.name, f"'{key}' texts of expert '{name}'")
        meta = {"fingerprint": describe_fingerprint(ctx, card), "llm": writer.name, "embedder": embedder.name, "dim": str(embedder.dim)}
        library.update_card(name, instruction=instruction, instruction_llm=writer.name)
        library.save_embeddings(embedder.name, name, tensors, meta)  # last: its fingerprint marks the expert described
    log.info("describe: done")
