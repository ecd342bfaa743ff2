"""Inter-process build locks: one builder of a thing at a time; the others wait, say so, then reuse.

The lock is an OS file lock (``flock``): a builder that crashes or is killed releases it at
once, so a lock is only ever held by a live process.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from glider.errors import LibraryError

log = logging.getLogger("glider")


@contextlib.contextmanager
def build_lock(lock_path: str | Path, what: str, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the lock at ``lock_path`` while building ``what``; wait (at most ``timeout_s``) if another process holds it."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("%s is being built by another process (lock %s); waiting for it to finish", what, lock_path)
        try:
            lock.acquire(timeout=-1 if timeout_s is None else float(timeout_s))
        except Timeout:
            raise LibraryError(
                f"Waited {float(timeout_s):g} s for another process that is building {what} (lock {lock_path}). "
                "Let it finish, or raise library.lock_timeout_s (null waits as long as it takes). The lock "
                "belongs to a live process: a crashed or killed build releases it at once."
            ) from None
        log.info("%s: the other build finished; parts it made are reused", what)
    try:
        yield
    finally:
        lock.release()
