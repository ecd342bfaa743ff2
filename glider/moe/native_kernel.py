"""The native kernels: C with AVX2 + FMA, compiled for this machine on first use, optional.

    out[t] += sum_j  w[t, j] s[e] B[e] (A[e] x[t]),   e = expert_idx[t, j]      (float32, CPU)

One call does every slot, with no per-expert Python or ATen call
(``glider/moe/native/segment_lora.c``): ``sorted_lora_f32`` counting-sorts the slots by
expert and runs each expert's slots three tokens at a time, reading ``A[e]`` and ``B[e]``
once per three tokens (large libraries); ``token_lora_f32`` goes in token order with no
sort (small libraries, sparse routing, per-example candidates). A third kernel
(``native/route_topk.c``, used by :mod:`glider.moe.native_route`) finishes Phatgoose top-k
routing, and ``native/routing_stats.c`` adds a batch's routing weights into the
evaluator's statistics (:class:`glider.moe.stats.RoutingStats`); ``native/routed_layer.c``
runs all three for one routed module in a single call (:mod:`glider.moe.native_routed`). Inference only (no backward): :func:`glider.moe.dispatch.lora_dispatch` uses
them when no gradient is needed, on float32 CPU tensors of fitting shapes, and when the
library could be built; otherwise it falls back to the ATen kernels.

Built with the system C compiler (``$CC`` or ``cc``, ``-O3 -mavx2 -mfma``) into
``$GLIDER_NATIVE_CACHE`` (default ``~/.cache/glider/native``), keyed by the sources and
the compiler, written atomically (concurrent processes are safe). No compiler, a
failed build or a CPU without AVX2/FMA: the kernels are off (logged once), nothing breaks.
``GLIDER_NATIVE_KERNEL=0`` turns them off.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch
from torch import Tensor

log = logging.getLogger("glider")

NATIVE_DIR = Path(__file__).resolve().parent / "native"
SOURCES = [NATIVE_DIR / name for name in ("segment_lora.c", "route_topk.c", "routing_stats.c", "routed_layer.c")]
FLAGS = ["-O3", "-mavx2", "-mfma", "-shared", "-fPIC"]
LIBS = ["-lm"]
BUILD_TIMEOUT_S = 120
MAX_RANK = 256


def cpu_has_avx2_fma() -> bool:
    """x86-64 Linux with the avx2 and fma flags in /proc/cpuinfo."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "avx2" in flags and "fma" in flags


def cache_dir() -> Path:
    return Path(os.environ.get("GLIDER_NATIVE_CACHE") or Path.home() / ".cache" / "glider" / "native")


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CC", "cc"))


def _library_path(compiler: str) -> Path:
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    sources = b"".join(path.read_bytes() for path in SOURCES)
    key = hashlib.sha256(sources + " ".join(FLAGS + LIBS).encode() + version.encode()).hexdigest()[:16]
    return cache_dir() / f"glider_native-{key}.so"


def _build(compiler: str, target: Path) -> None:
    """Compile into a temporary file next to ``target``, then rename (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".so.tmp")
    os.close(fd)
    try:
        subprocess.run([compiler, *FLAGS, "-o", tmp, *map(str, SOURCES), *LIBS], check=True, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.lru_cache(maxsize=1)
def native_kernel() -> ctypes.CDLL | None:
    """The loaded kernel, building it if needed; None when it is off or cannot be built here."""
    if os.environ.get("GLIDER_NATIVE_KERNEL", "1") == "0":
        return None
    if not cpu_has_avx2_fma():
        log.info("native kernels off: this CPU has no AVX2/FMA (using the ATen path)")
        return None
    compiler = _compiler()
    if compiler is None:
        log.info("native kernels off: no C compiler (cc) found (using the ATen path)")
        return None
    try:
        target = _library_path(compiler)
        if not target.exists():
            _build(compiler, target)
        lib = ctypes.CDLL(str(target))
    except (OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", "") or str(err)
        log.warning("native kernels off: building them failed (%s); using the ATen path", detail.strip()[:500])
        return None
    for name in ("token_lora_f32", "sorted_lora_f32"):
        getattr(lib, name).argtypes = [ctypes.c_void_p] * 7 + [ctypes.c_int64] * 6
        getattr(lib, name).restype = ctypes.c_int
    lib.phatgoose_topk_f32.argtypes = (
        [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
        + [ctypes.c_float, ctypes.c_float, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
        + [ctypes.c_void_p, ctypes.c_void_p]
    )
    lib.phatgoose_topk_f32.restype = ctypes.c_int
    lib.routing_stats_f32.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 4 + [ctypes.c_void_p] * 2 + [ctypes.c_float]
    lib.routing_stats_f32.restype = ctypes.c_int
    i64, ptr, f32 = ctypes.c_int64, ctypes.c_void_p, ctypes.c_float
    lib.routed_lora_f32.argtypes = [
        ptr, i64, i64, ptr, i64, ptr, i64, f32, f32, ptr, i64, i64,  # the router
        ptr, ptr, ptr, i64, i64, i64, ptr, ptr, ptr,  # the dispatch and its outputs
        ptr, ptr, i64, ptr, ptr, f32,  # the statistics
    ]
    lib.routed_lora_f32.restype = ctypes.c_int
    return lib


def native_fits(out: Tensor, x: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> bool:
    """Whether the native kernel can run this dispatch (shapes, dtypes, layout, no gradient needed)."""
    _, rank, d_in = lora_A.shape
    d_out = lora_B.shape[1]
    if x.device.type != "cpu" or any(t.dtype != torch.float32 for t in (out, x, lora_A, lora_B)):
        return False
    if d_in % 8 or d_out % 8 or rank % 4 or rank > MAX_RANK:
        return False
    if not (out.is_contiguous() and lora_A.is_contiguous() and lora_B.transpose(1, 2).is_contiguous()):
        return False
    if torch.is_grad_enabled() and any(t.requires_grad for t in (x, weights, lora_A, lora_B, scale)):
        return False
    return native_kernel() is not None


def _check_out(out: Tensor, x: Tensor, lora_B: Tensor) -> None:
    if out.shape != (x.shape[0], lora_B.shape[1]):
        raise ValueError(f"out must be [T={x.shape[0]}, d_out={lora_B.shape[1]}], got {tuple(out.shape)}")


def native_token_dispatch_into(
    out: Tensor, x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor
) -> Tensor:
    """``out += dispatch`` in place, in token order, with the native kernel (call :func:`native_fits` first)."""
    return _native_dispatch("token_lora_f32", out, x, expert_idx, weights, lora_A, lora_B, scale)


def native_dispatch_into(
    out: Tensor, x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor
) -> Tensor:
    """``out += dispatch`` in place, slots counting-sorted by expert in C, with the native kernel (call
    :func:`native_fits` first)."""
    return _native_dispatch("sorted_lora_f32", out, x, expert_idx, weights, lora_A, lora_B, scale)


def _native_dispatch(
    kernel: str, out: Tensor, x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor
) -> Tensor:
    """One call of a native dispatch kernel (token order or sorted; both check the expert ids)."""
    lib = native_kernel()
    if lib is None:
        raise RuntimeError("the native dispatch kernel is not available on this machine")
    _check_out(out, x, lora_B)
    experts = expert_idx.to(torch.int64).contiguous()
    weights = weights.to(torch.float32).contiguous()
    scale = scale.to(torch.float32).contiguous()
    x = x.contiguous()
    lora_Bt = lora_B.transpose(1, 2)  # [N, r, d_out], contiguous (checked by native_fits)
    status = getattr(lib, kernel)(
        x.data_ptr(), lora_A.data_ptr(), lora_Bt.data_ptr(), out.data_ptr(), experts.data_ptr(), weights.data_ptr(),
        scale.data_ptr(), experts.shape[0], experts.shape[1], lora_A.shape[0], x.shape[1], out.shape[1], lora_A.shape[1],
    )
    if status == 1:
        raise ValueError(f"expert_idx holds ids >= {lora_A.shape[0]}, the number of experts in lora_A, or < -1")
    if status:
        raise MemoryError("the native dispatch kernel could not allocate its slot buffers")
    return out
