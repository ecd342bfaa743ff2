"""The instruction-writer interface: turn K sample inputs of a task into one instruction."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from tqdm.auto import tqdm

PROGRESS_THRESHOLD = 20  # show a progress bar when write_many gets more requests than this


@runtime_checkable
class InstructionWriter(Protocol):
    """Writes a short task instruction from sample inputs (GLIDER's global-router text).

    Backends subclass this class explicitly to inherit the default ``write_many``.
    ``name`` identifies the source of the instructions (backend and model or file).
    """

    name: str

    def for_queries(self) -> "InstructionWriter":
        """The writer of the query side (evaluation queries, probe queries): this one, unless the
        source keeps the two sides apart (``llm=file`` with ``query_path``)."""
        return self

    def write(self, samples: Sequence[str], task: str | None = None) -> str:
        """Return one instruction for the task the ``samples`` come from."""
        ...

    def write_many(self, requests: Sequence[tuple[Sequence[str], str | None]]) -> list[str]:
        """Write one instruction per ``(samples, task)`` request, in order."""
        show = len(requests) > PROGRESS_THRESHOLD
        bar = tqdm(requests, desc=f"instructions [{self.name}]", disable=not show, leave=False)
        return [self.write(samples, task) for samples, task in bar]
