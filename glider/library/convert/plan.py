"""An import plan entry: which expert comes from which file (decided before any tensor is read)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from glider.library.convert.common import ExpertParts
from glider.library.expert import Expert


@dataclass(frozen=True)
class ImportItem:
    """One expert to import: its name and task, the file it comes from, what identifies that source."""

    name: str
    task: str
    path: Path
    fingerprint: dict[str, Any]
    index: int = 0  # position in a concatenated checkpoint


class Importer(Protocol):
    """Lists the experts of a checkpoint (``plan``), checks one without reading its data (``parse``), reads it (``load``)."""

    format: str
    skipped: list[str]  # what the source holds beyond the requested tasks (after ``plan``)

    def plan(self) -> list[ImportItem]: ...

    def parse(self, item: ImportItem) -> ExpertParts: ...

    def load(self, item: ImportItem) -> Expert: ...
