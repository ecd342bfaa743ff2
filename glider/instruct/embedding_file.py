"""``llm=embeddings``: precomputed instruction embeddings, one per task, read from two files.

The released GLIDER embeddings (hub ``MoE-UNC/gpt-generated-instruction-nomic-embeddings``)
are ``torch.load`` files holding a dict task name -> nomic embedding [768], in folders
``t0-v3``, ``t0-v4``, ``flan-v2``, ``bigbench``, ``bigbench-v2`` (as
``<folder>/checkpoints/nomic_instruction_embedding.pt`` or ``<folder>/nomic_instruction_embedding.pt``).
As in the original, the expert side comes from one file (its ``bias_router_embedding_path``),
the query side from another (``bias_input_embedding_path``), and the global score is per task:

    c_i = cos(e_queries[task], e_experts[task_i])      the same for every example of the task

The original slices every embedding with ``[:bias_routing_dim]`` (default -1: the last
dimension is dropped); here the whole vector is used unless ``bias_routing_dim`` is set
(-1 reproduces the original exactly).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor

from glider.errors import ConfigError, InstructionError

FILE_NAME = "nomic_instruction_embedding.pt"
LAYOUTS = (FILE_NAME, f"checkpoints/{FILE_NAME}")  # the two layouts of the released folders


def locate_embedding_file(path: Path) -> Path:
    """``path`` itself, or the released file inside a released folder (either layout)."""
    if path.is_dir():
        for relative in LAYOUTS:
            if (path / relative).is_file():
                return path / relative
        raise InstructionError(f"{path} holds no {' or '.join(LAYOUTS)}: point it at a folder of the released embeddings "
                               "(e.g. gpt-generated-instruction-nomic-embeddings/t0-v3) or at the .pt file itself.")
    if not path.is_file():
        raise InstructionError(f"embedding file {path} does not exist. Clone MoE-UNC/gpt-generated-instruction-nomic-embeddings "
                               "into paths.released_dir (docs/paper-parity.md) or fix instructions.embeddings / llm.experts / llm.queries.")
    return path


def read_embedding_file(path: Path, bias_routing_dim: int | None) -> dict[str, Tensor]:
    """A checked dict task -> 1-D float32 embedding (sliced ``[:bias_routing_dim]`` when that is set)."""
    try:
        table = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # a damaged or foreign file: torch raises many types
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InstructionError(f"cannot read embedding file {path}: {first}. It must be a torch.load file of "
                               "{task: 1-D tensor}.") from None
    if not isinstance(table, dict) or not table:
        raise InstructionError(f"embedding file {path} holds a {type(table).__name__}{' (empty)' if isinstance(table, dict) else ''}, "
                               "not a dict task -> 1-D tensor.")
    out: dict[str, Tensor] = {}
    for task, value in table.items():
        if not isinstance(task, str) or not isinstance(value, Tensor) or value.dim() != 1 or value.numel() == 0:
            what = type(value).__name__ if not isinstance(value, Tensor) else f"a tensor of shape {tuple(value.shape)}"
            raise InstructionError(f"embedding file {path}: entry {task!r} is {what}; every entry must map a task name "
                                   "to a 1-D tensor.")
        vector = value.float()[:bias_routing_dim] if bias_routing_dim is not None else value.float()
        if not torch.isfinite(vector).all():
            raise InstructionError(f"embedding file {path}: the embedding of task '{task}' holds NaN/inf. Restore the file "
                                   "(git lfs pull in the cloned folder) or use another generation.")
        out[task] = vector
    dims = {v.shape[0] for v in out.values()}
    if len(dims) != 1:
        raise InstructionError(f"embedding file {path} mixes embedding sizes {sorted(dims)}: every task needs the same dimension.")
    return out


def gives_embeddings(source: object) -> bool:
    """Whether an instruction source gives embeddings rather than texts (``llm=embeddings``)."""
    return bool(getattr(source, "gives_embeddings", False))


class EmbeddingFileSource:
    """Task embeddings read from an expert-side and a query-side file (no LLM, no embedder)."""

    needs_samples = False  # looked up by task name
    gives_embeddings = True  # eval and describe take vectors from it, not texts

    def __init__(self, experts: str | os.PathLike | None, queries: str | os.PathLike | None,
                 bias_routing_dim: int | None = None) -> None:
        if not experts or not queries:
            raise ConfigError("llm=embeddings needs both files: instructions.embeddings.experts and "
                              "instructions.embeddings.queries (an experiment=... of the paper sets them; docs/paper-parity.md).")
        if bias_routing_dim is not None and (isinstance(bias_routing_dim, bool) or not isinstance(bias_routing_dim, int)):
            raise ConfigError(f"llm.bias_routing_dim must be null or an integer (the original's slice end), got {bias_routing_dim!r}.")
        self.experts_path = Path(experts).expanduser()
        self.queries_path = Path(queries).expanduser()
        self.bias_routing_dim = bias_routing_dim
        self.name = f"embeddings:{self.experts_path.name}+{self.queries_path.name}"
        self._tables: dict[str, dict[str, Tensor]] = {}  # side -> task -> [dim], read on first use
        self._files: dict[str, Path] = {}  # side -> the file read

    def for_queries(self) -> "EmbeddingFileSource":
        return self

    def write(self, samples: Sequence[str], task: str | None = None) -> str:
        raise InstructionError("llm=embeddings gives embeddings, not instruction texts; a stage asked it for text "
                               "(use llm=file for the published texts).")

    def write_many(self, requests: Sequence[tuple[Sequence[str], str | None]]) -> list[str]:
        return [self.write(samples, task) for samples, task in requests]

    def _table(self, side: str) -> dict[str, Tensor]:
        if side not in self._tables:
            self._files[side] = locate_embedding_file(self.experts_path if side == "experts" else self.queries_path)
            self._tables[side] = read_embedding_file(self._files[side], self.bias_routing_dim)
        return self._tables[side]

    def _path(self, side: str) -> Path:
        self._table(side)
        return self._files[side]

    def _lookup(self, side: str, tasks: Sequence[str]) -> Tensor:
        table = self._table(side)
        for task in tasks:
            if task not in table:
                close = difflib.get_close_matches(task, table, n=3, cutoff=0.6)
                hint = f" Close matches: {', '.join(close)}." if close else ""
                fix = "llm.experts (instructions.embeddings.experts)" if side == "experts" else "llm.queries (instructions.embeddings.queries)"
                raise InstructionError(f"task '{task}' has no embedding in {self._path(side)} ({len(table)} tasks, the {side}' side).{hint} "
                                       f"Use the file of this setting's generation: {fix}.")
        return torch.stack([table[t] for t in tasks]) if tasks else torch.zeros(0, self.dim)

    @property
    def dim(self) -> int:
        """The embedding size, the same on both sides (checked)."""
        d_exp = next(iter(self._table("experts").values())).shape[0]
        d_query = next(iter(self._table("queries").values())).shape[0]
        if d_exp != d_query:
            raise InstructionError(f"the expert-side embeddings ({self._path('experts')}) have dimension {d_exp} but the query-side "
                                   f"ones ({self._path('queries')}) have {d_query}: both sides must come from the same embedder.")
        return d_exp

    def expert_embeddings(self, tasks: Sequence[str]) -> Tensor:
        """[N, dim] the experts' embeddings, in the order of ``tasks`` (the library's)."""
        self.dim  # noqa: B018 (checks both sides agree before any routing)
        return self._lookup("experts", tasks)

    def query_embeddings(self, tasks: Sequence[str]) -> dict[str, Tensor]:
        """task -> [dim] the query-side embedding of every evaluated task."""
        self.dim  # noqa: B018
        emb = self._lookup("queries", list(tasks))
        return dict(zip(tasks, emb))
