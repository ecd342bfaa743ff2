"""Raw rows of a data split: from a local directory (json/jsonl/parquet/save_to_disk) or the hub.

A split is any object with ``len()`` and integer indexing that returns one row as a dict
(a list of dicts, a ``datasets.Dataset`` or a parquet table view); nothing is copied into
Python objects until a row is read.
"""

from __future__ import annotations

import json
import os
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence

from glider.errors import DataError

FILE_SUFFIXES = (".jsonl", ".json", ".parquet")


class Rows(Protocol):
    """A random-access sequence of raw rows."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, Any]: ...


class ParquetRows:
    """Rows of one or more parquet files, read lazily through pyarrow."""

    def __init__(self, paths: Sequence[Path]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.table = pa.concat_tables([pq.read_table(str(p)) for p in paths]) if len(paths) > 1 else pq.read_table(str(paths[0]))

    def __len__(self) -> int:
        return self.table.num_rows

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.table.slice(index, 1).to_pylist()[0]


def hub_disabled() -> bool:
    """True when ``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE`` forbid the hub (then it is never contacted)."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}:
            return True
    return False


@lru_cache(maxsize=1)
def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the hub may be used: not disabled, and huggingface.co answers within ``timeout_s``."""
    if hub_disabled():
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def _read_json_file(path: Path) -> list[dict[str, Any]]:
    """A .jsonl file, a JSON list, or a JSON object with the rows under 'examples' / 'data' / 'rows'."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except (OSError, ValueError) as err:
        raise DataError(f"Cannot read {path}: {err}. Fix or replace the file.") from None
    if isinstance(data, dict):
        for key in ("examples", "data", "rows"):
            if isinstance(data.get(key), list):
                return data[key]
        raise DataError(f"{path} holds a JSON object without an 'examples' (or 'data') list of rows.")
    if not isinstance(data, list):
        raise DataError(f"{path} must hold a list of rows (JSON objects), got {type(data).__name__}.")
    return data


ARROW_JSONL_BYTES = 8 * 2**20  # jsonl files at least this large are read as a memory-mapped datasets.Dataset


def read_file_rows(paths: Sequence[Path]) -> Rows:
    """Rows of parquet files (lazy), large jsonl files (``datasets``: Arrow, memory-mapped, cached once per file
    version) or small json/jsonl files (in memory)."""
    if all(p.suffix == ".parquet" for p in paths):
        return ParquetRows(paths)
    if all(p.suffix == ".jsonl" for p in paths) and sum(p.stat().st_size for p in paths) >= ARROW_JSONL_BYTES:
        return _arrow_jsonl(paths)
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows.extend(_read_json_file(path) if path.suffix != ".parquet" else list(ParquetRows([path]).table.to_pylist()))
    return rows


def _arrow_jsonl(paths: Sequence[Path]) -> Rows:
    from datasets import load_dataset

    try:
        return load_dataset("json", data_files=[str(p) for p in paths], split="train")
    except Exception as err:  # datasets wraps pyarrow's parse errors in its own
        raise DataError(f"Cannot read {', '.join(map(str, paths))} as JSON lines: {str(err).splitlines()[0]}. Fix or replace the file.") from None


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_info.json").is_file() or (path / "state.json").is_file()


def _is_saved_dict(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file()


def find_local_split(directory: Path, split: str) -> Rows | None:
    """The rows of ``split`` under ``directory``, or None when that split is not there.

    Accepted: ``<split>.jsonl|json|parquet``, shards ``<split>-*.parquet``, a
    ``save_to_disk`` Dataset in ``<split>/`` (or parquet/json files inside it), or a
    ``save_to_disk`` DatasetDict in ``directory`` that has ``split``.
    """
    if not directory.is_dir():
        return None
    for suffix in FILE_SUFFIXES:
        if (directory / f"{split}{suffix}").is_file():
            return read_file_rows([directory / f"{split}{suffix}"])
    shards = sorted(directory.glob(f"{split}-*.parquet"))
    if shards:
        return read_file_rows(shards)
    sub = directory / split
    if sub.is_dir():
        if _is_saved_dataset(sub):
            return _load_from_disk(sub)
        files = sorted(p for p in sub.iterdir() if p.suffix in FILE_SUFFIXES)
        if files:
            return read_file_rows(files)
    if _is_saved_dict(directory):
        saved = _load_from_disk(directory)
        return saved[split] if split in saved else None
    return None


def _load_from_disk(path: Path) -> Any:
    from datasets import load_from_disk

    try:
        return load_from_disk(str(path))
    except Exception as err:  # datasets raises FileNotFoundError / ValueError / its own errors
        raise DataError(f"Cannot load the save_to_disk dataset at {path}: {err}. Re-save it with Dataset.save_to_disk.") from None


PARQUET_EXPORT = "refs/convert/parquet"  # the hub's own parquet conversion of every dataset it can show


def load_hub_split(hub_id: str, config: str | None, split: str, revision: str | None = None) -> Rows | None:
    """One split of a hub dataset (Arrow-backed, memory-mapped, cached by ``datasets``); None if the split does not exist.

    ``datasets`` >= 4 no longer runs loading scripts; a dataset that still has only a script is
    read from the hub's parquet export instead (branch ``refs/convert/parquet``, one folder per
    config). Any other failure is one DataError naming the dataset and the manual step.
    """
    try:
        return _load_split(hub_id, config, split, revision, data_dir=None)
    except Exception as err:  # datasets / huggingface_hub raise many types (connection, missing repo or config, gated)
        if "scripts are no longer supported" not in str(err) or revision == PARQUET_EXPORT:
            raise _hub_error(hub_id, config, split, err) from None
    try:
        return _load_split(hub_id, None, split, PARQUET_EXPORT, data_dir=config or "default")
    except Exception as err:
        raise _hub_error(hub_id, config, split, err, script=True) from None


def _load_split(hub_id: str, config: str | None, split: str, revision: str | None, data_dir: str | None) -> Rows | None:
    """``datasets.load_dataset`` of one split; None when the dataset has no such split."""
    from datasets import load_dataset

    try:
        return load_dataset(hub_id, config, split=split, revision=revision, data_dir=data_dir)
    except ValueError as err:
        if "Unknown split" in str(err) or "Bad split" in str(err):
            return None
        raise


def _hub_error(hub_id: str, config: str | None, split: str, err: BaseException, script: bool = False) -> DataError:
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    what = f"'{hub_id}'" + (f" (config '{config}')" if config else "")
    why = ("it has only a loading script, which datasets >= 4 does not run, and its parquet export "
           f"({PARQUET_EXPORT}) could not be read either" if script else "it could not be loaded")
    return DataError(
        f"Cannot load split '{split}' of hub dataset {what}: {why} ({first}). Manual step: download the rows "
        "(e.g. with datasets < 4 and trust_remote_code=True, or from the dataset's own site), save them as "
        "<data_dir>/<task>/<split>.jsonl in the dataset's schema, and run with task.data_dir=<data_dir>."
    )
