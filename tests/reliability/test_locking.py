"""The build lock: a second builder waits (and says so), or gives up after library.lock_timeout_s."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from filelock import FileLock

from glider.errors import LibraryError
from glider.locking import build_lock


@contextlib.contextmanager
def held_elsewhere(path: Path, seconds: float) -> Iterator[None]:
    """Another holder (a thread: filelock refuses a second lock of one file in the same thread) for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        with FileLock(str(path)):
            taken.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    try:
        yield
    finally:
        thread.join()


def test_waiting_builder_says_so_and_continues_when_the_lock_is_free(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with held_elsewhere(tmp_path / ".lock", 0.4):
        start = time.monotonic()
        with caplog.at_level(logging.INFO, logger="glider"), build_lock(tmp_path / ".lock", "library L"):
            waited = time.monotonic() - start
    assert waited >= 0.2
    assert "library L is being built by another process" in caplog.text and "the other build finished" in caplog.text


def test_lock_timeout_is_one_clear_error(tmp_path: Path) -> None:
    with held_elsewhere(tmp_path / ".lock", 1.0):
        with pytest.raises(LibraryError, match=r"Waited 0.2 s for another process that is building library L .*lock_timeout_s"):
            with build_lock(tmp_path / ".lock", "library L", timeout_s=0.2):
                pass
