"""``llm=file``: instructions read from a JSON map task -> instruction (published GLIDER format)."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Sequence, Union

from glider.errors import ConfigError, InstructionError
from glider.instruct.paths import REPO_ROOT
from glider.instruct.writer import InstructionWriter

Pick = Union[str, int]  # "first", "all" or an index into a task's list of instructions
PathOrPaths = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


class FileWriter(InstructionWriter):
    """Looks up each task's instruction in a JSON file; the samples are ignored.

    Values are one string or a list of strings; ``pick`` chooses from a list:
    ``"first"``, ``"all"`` (joined with a space) or an integer index.
    ``path`` may also be a list of files, merged in order (a task keeps its first entry).
    ``query_path`` (one file or a list) holds the query side when it differs from the
    experts' (the paper describes experts and queries with two LLM generations, e.g. T0
    v3 and v4): ``for_queries()`` returns a writer over it.
    """

    needs_samples = False  # instructions come from the task name alone

    def __init__(self, path: PathOrPaths, pick: Pick = "first", query_path: PathOrPaths | None = None) -> None:
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path or [])
        if not paths:
            raise ConfigError("llm.path must name at least one instruction file.")
        self.paths = [self._locate(Path(p).expanduser()) for p in paths]
        self.path = self.paths[0]
        self.pick = self._check_pick(pick)
        self.name = "file:" + "+".join(p.name for p in self.paths)
        self.query_path = query_path
        self._table: dict[str, str | list[str]] | None = None  # loaded on first use

    def for_queries(self) -> "FileWriter":
        """The query side: a writer over ``query_path``, or this one when there is none."""
        return self if not self.query_path else FileWriter(self.query_path, self.pick)

    @staticmethod
    def _locate(path: Path) -> Path:
        """A relative path is taken from the working directory, else from the repository root."""
        if path.is_absolute() or path.exists() or not (REPO_ROOT / path).exists():
            return path
        return REPO_ROOT / path

    @staticmethod
    def _check_pick(pick: Pick) -> Pick:
        if isinstance(pick, bool) or not (pick in ("first", "all") or isinstance(pick, int)):
            raise ConfigError(f"llm.pick must be 'first', 'all' or an integer index, got {pick!r}.")
        return pick

    @property
    def table(self) -> dict[str, str | list[str]]:
        """The whole task -> instruction(s) map, read and checked once."""
        if self._table is None:
            self._table = self._load()
        return self._table

    @property
    def tasks(self) -> list[str]:
        """Task names in file order."""
        return list(self.table)

    def _load(self) -> dict[str, str | list[str]]:
        table: dict[str, str | list[str]] = {}
        for path in self.paths:
            for task, value in self._load_one(path).items():
                table.setdefault(task, value)
        return table

    def _load_one(self, path: Path) -> dict[str, str | list[str]]:
        where = path.resolve()
        if not path.is_file():
            raise InstructionError(
                f"instruction file {where} does not exist. Put the published instruction files in "
                "paths.instructions_dir (python -m glider.instruct.install_instructions --from <a clone of "
                "github.com/UNITES-Lab/glider>; docs/paper-parity.md) or fix instructions.texts / llm.path."
            )
        try:
            table = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InstructionError(f"instruction file {where} is not readable JSON: {err}") from err
        if not isinstance(table, dict):
            raise InstructionError(f"instruction file {where} must hold a JSON object task -> instruction(s).")
        for task, value in table.items():
            ok = isinstance(value, str) or (
                isinstance(value, list) and value and all(isinstance(v, str) for v in value)
            )
            if not ok:
                raise InstructionError(
                    f"instruction file {where}: task '{task}' must map to a string or a non-empty "
                    f"list of strings, got {type(value).__name__}."
                )
        return table

    def _choose(self, task: str, value: str | list[str]) -> str:
        if isinstance(value, str):
            return value
        if self.pick == "first":
            return value[0]
        if self.pick == "all":
            return " ".join(value)
        try:
            return value[self.pick]  # type: ignore[index]
        except IndexError:
            raise InstructionError(
                f"task '{task}' has {len(value)} instructions in {self.path}; llm.pick={self.pick} "
                "is out of range. Use 'first', 'all' or a smaller index."
            ) from None

    def write(self, samples: Sequence[str], task: str | None = None) -> str:
        """The instruction stored for ``task``; raises with close matches if it is unknown."""
        if task is None:
            raise InstructionError(
                f"llm=file looks instructions up by task name, but no task was given "
                f"(file {self.path}). Use llm=none/openai/hf to write from samples alone."
            )
        value = self.table.get(task)
        if value is None:
            close = difflib.get_close_matches(task, self.table.keys(), n=3, cutoff=0.6)
            hint = f" Close matches: {', '.join(close)}." if close else ""
            raise InstructionError(
                f"task '{task}' is not in instruction file(s) {', '.join(str(p.resolve()) for p in self.paths)} "
                f"({len(self.table)} tasks).{hint} Fix the task name or llm.path."
            )
        return self._choose(task, value)
