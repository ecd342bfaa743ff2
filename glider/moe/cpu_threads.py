"""Run a block of many small CPU ops with a fixed number of intra-op threads.

The grouped dispatch issues a few hundred small kernels per call (two tiny matmuls per used
expert).  With several intra-op threads each of them forks and joins the thread team;
on a machine whose cores are shared with other processes a join can wait a whole
scheduler slice, which made the dispatch up to 20x slower than on one thread (see
``benchmarks/README.md``).  One thread keeps the cost proportional to the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def cpu_threads(n_threads: int | None, device: torch.device) -> Iterator[None]:
    """Within the block use ``n_threads`` intra-op threads for CPU work.

    No-op when ``n_threads`` is None, the device is not a CPU, or the setting is already
    at most ``n_threads``.  Restores the previous setting on exit.
    """
    previous = torch.get_num_threads()
    if n_threads is None or device.type != "cpu" or previous <= n_threads:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
