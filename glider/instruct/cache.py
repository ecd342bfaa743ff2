"""On-disk cache of LLM-written instructions, keyed by (backend, model, prompt)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable


class InstructionCache:
    """One JSON file per key under ``cache_dir``; writes are atomic; empty answers are never stored."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.cache_dir = Path(cache_dir).expanduser()

    @staticmethod
    def key(backend: str, model: str, prompt: str) -> str:
        """sha256 hex digest of the JSON triple (backend, model, prompt)."""
        payload = json.dumps([backend, model, prompt], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path(self, backend: str, model: str, prompt: str) -> Path:
        """The file that holds (or would hold) this entry."""
        return self.cache_dir / f"{self.key(backend, model, prompt)}.json"

    def get(self, backend: str, model: str, prompt: str) -> str | None:
        """The cached instruction, or None if absent or unreadable."""
        path = self.path(backend, model, prompt)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        answer = record.get("instruction") if isinstance(record, dict) else None
        if not isinstance(answer, str) or not answer.strip() or record.get("prompt") != prompt:
            return None
        return answer

    def put(self, backend: str, model: str, prompt: str, instruction: str) -> None:
        """Store a non-empty instruction atomically (temp file + os.replace)."""
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError("InstructionCache never stores an empty instruction")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        record = {"backend": backend, "model": model, "prompt": prompt, "instruction": instruction}
        target = self.path(backend, model, prompt)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=f".{target.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, ensure_ascii=False, indent=1)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_or_write(self, backend: str, model: str, prompt: str, produce: Callable[[str], str]) -> str:
        """The cached answer, else ``produce(prompt)`` stored then returned (a raise stores nothing)."""
        hit = self.get(backend, model, prompt)
        if hit is not None:
            return hit
        answer = produce(prompt)
        self.put(backend, model, prompt, answer)
        return answer

    def __len__(self) -> int:
        """Number of stored entries."""
        if not self.cache_dir.is_dir():
            return 0
        return sum(1 for p in self.cache_dir.glob("*.json") if not p.name.startswith("."))
