"""Atomic file writes: a file or directory is either complete under its final name or absent."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import torch
from safetensors.torch import save_file


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
# ".<name>.<8 random chars>.tmp|old": what _temp_path and atomic_directory leave behind if killed
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.(?P<kind>tmp|old)$")
log = logging.getLogger("glider")


def _temp_path(path: Path) -> Path:
    """A new empty file beside ``path`` with the usual permissions (mkstemp alone gives 0600)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, _FILE_MODE)
    os.close(fd)
    return Path(name)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """JSON (indented, sorted keys) written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_save_tensors(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """safetensors file written atomically (contiguous CPU copies of the tensors)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp directory beside ``path``; on success it replaces ``path`` in one rename.

    If the body raises, the temp directory is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp file name beside ``path`` for a writer that takes a path (e.g. savefig); renamed on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def recover_interrupted_writes(folder: str | os.PathLike, name: str | None = None, recursive: bool = False) -> list[str]:
    """Finish or undo the atomic writes a killed process left in ``folder``; returns what was done.

    A ``.old`` directory whose target is missing is moved back (the kill fell between the two
    renames of replacing a directory); every other ``.tmp`` / ``.old`` leftover is deleted.
    ``name`` limits this to the leftovers of that one entry. Call it only while holding the
    lock that guards every writer of ``folder`` (a live writer's temp files look the same).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    actions: list[str] = []
    for entry in sorted(folder.iterdir()):
        match = _LEFTOVER.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        target = folder / match["name"]
        done = []
        if match["kind"] == "old" and (entry / "x").is_dir() and not target.exists():
            os.replace(entry / "x", target)
            done.append(f"restored {target} (a replacement was interrupted)")
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        done.append(f"removed leftover {entry}")
        for action in done:
            log.warning("recovery: %s", action)
        actions += done
    if recursive:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
            actions += recover_interrupted_writes(sub, recursive=True)
    return actions


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)
