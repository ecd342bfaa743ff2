"""Timing helpers shared by the benchmarks: interleaved repetitions, paired ratios, machine line.

Every variant runs once per repetition, in a fresh random order; a ratio is the median
over repetitions of ``time(a) / time(b)`` within the same repetition, which cancels slow
drifts of a shared machine's load.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def sample_times(
    variants: dict[str, Callable[[], Any]],
    repeats: int,
    sync: Callable[[], None],
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Seconds per variant and repetition; each repetition runs every variant once, in a fresh random order."""
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    sync()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for _ in range(repeats):
        random.shuffle(names)
        for name in names:
            sync()
            start = clock()
            variants[name]()
            sync()
            samples[name].append(clock() - start)
    return samples


def paired_ratio(samples: dict[str, list[float]], name: str, reference: str) -> float:
    """Median over repetitions of ``time(name) / time(reference)`` within the same repetition."""
    return statistics.median(a / b for a, b in zip(samples[name], samples[reference]))


def machine_line(device: torch.device) -> str:
    """CPU model, core count, torch threads and version (and the GPU when timing on one)."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [f"CPU: {cpu} ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})"]
    if device.type == "cuda":
        parts.append(f"GPU: {torch.cuda.get_device_name(device)}")
    parts.append(f"torch {torch.__version__}, device {device.type}")
    try:
        parts.append(f"load average {os.getloadavg()[0]:.1f}")
    except OSError:
        pass
    return "; ".join(parts)
