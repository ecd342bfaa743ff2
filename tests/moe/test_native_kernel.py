"""The native dispatch kernel equals the plain loop, is chosen only where it can run, and fails soft."""

from __future__ import annotations

import pytest
import torch

import glider.moe.dispatch as dispatch
import glider.moe.native_kernel as native
from glider.moe.dispatch import lora_dispatch, lora_loop_reference
from tests.moe.test_dispatch import make_case

needs_kernel = pytest.mark.skipif(native.native_kernel() is None, reason="no AVX2/FMA CPU or no C compiler: the native kernel is off here")

# (T, N, k, r, d_in, d_out): d_in, d_out multiples of 8 and r of 4
SHAPES = [
    (64, 8, 2, 4, 16, 24),
    (257, 166, 2, 16, 64, 48),
    (16, 1, 1, 4, 8, 8),  # N = 1
    (5, 300, 2, 4, 8, 16),  # mostly empty experts
    (100, 37, 3, 8, 72, 40),
    (7, 3, 1, 256, 8, 8),  # the largest rank
]


@needs_kernel
@pytest.mark.parametrize("shape", SHAPES)
def test_native_matches_the_loop_reference(shape):
    case = make_case(*shape)
    reference = lora_loop_reference(*case)
    with torch.inference_mode():
        out = lora_dispatch(*case, kernel="native")
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)


@needs_kernel
@pytest.mark.parametrize("shape", SHAPES)
def test_token_order_native_matches_the_loop_reference(shape):
    case = make_case(*shape)
    reference = lora_loop_reference(*case)
    with torch.inference_mode():
        out = lora_dispatch(*case, kernel="bag")  # token order: the native kernel where it can run
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)


@needs_kernel
def test_native_auto_rule_sorted_unless_sparse(monkeypatch):
    calls = []
    for name in ("native_token_dispatch_into", "native_dispatch_into"):
        real = getattr(dispatch, name)
        monkeypatch.setattr(dispatch, name, lambda *a, name=name, real=real: calls.append(name) or real(*a))
    with torch.inference_mode():
        lora_dispatch(*make_case(40, 6, 2, 4, 16, 16))  # 80 slots >= 6 experts: sorted
        lora_dispatch(*make_case(4, 20, 2, 4, 16, 16))  # 8 slots < 20 experts: token order
        lora_dispatch(*make_case(40, 6, 2, 4, 16, 16), kernel="bag")  # token order, native
    assert calls == ["native_dispatch_into", "native_token_dispatch_into", "native_token_dispatch_into"]


@needs_kernel
def test_token_order_native_is_taken_and_checks_ids(monkeypatch):
    calls = []
    real = dispatch.native_token_dispatch_into
    monkeypatch.setattr(dispatch, "native_token_dispatch_into", lambda *a: calls.append(1) or real(*a))
    x, idx, w, A, B, s = make_case(40, 6, 3, 4, 16, 16)
    idx[::3, 1] = -1
    with torch.inference_mode():
        out = lora_dispatch(x, idx, w, A, B, s, kernel="bag")
        assert calls == [1]
        torch.testing.assert_close(out, lora_loop_reference(x, idx, w, A, B, s), atol=1e-5, rtol=1e-5)
        idx[5, 0] = 6
        with pytest.raises(ValueError, match="ids >= 6"):
            lora_dispatch(x, idx, w, A, B, s)


@needs_kernel
def test_idle_slots_repeated_tokens_and_accumulation():
    x, idx, w, A, B, s = make_case(40, 6, 3, 4, 16, 16)
    idx[::3, 1] = -1  # no expert
    idx[1::5, 2] = idx[1::5, 0]  # the same expert twice for one token
    base = torch.randn(40, 16)
    expected = base + lora_loop_reference(x, idx, w, A, B, s)
    with torch.inference_mode():
        out = lora_dispatch(x, idx, w, A, B, s, kernel="native", out=base.clone())
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


@needs_kernel
def test_auto_takes_native_instead_of_grouped_only_without_gradients(monkeypatch):
    calls = []
    real = dispatch.native_dispatch_into
    monkeypatch.setattr(dispatch, "native_dispatch_into", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(dispatch, "BAG_MAX_LIBRARY_BYTES", 0)  # a "large" library: not the bag kernel
    x, idx, w, A, B, s = make_case(64, 8, 2, 4, 16, 24)
    with torch.inference_mode():
        lora_dispatch(x, idx, w, A, B, s)
    assert calls == [1]
    A.requires_grad_(True)
    out = lora_dispatch(x, idx, w, A, B, s)  # training: the grouped kernel (native has no backward)
    assert calls == [1] and out.requires_grad
    with torch.inference_mode():
        lora_dispatch(x.to(torch.bfloat16), idx, w, A.detach().to(torch.bfloat16), B.to(torch.bfloat16), s)
    assert calls == [1]  # bfloat16: grouped


def test_forcing_native_where_it_cannot_run_is_one_clear_error():
    x, idx, w, A, B, s = make_case(10, 4, 2, 3, 7, 11)  # r = 3, d_in = 7: unaligned
    with pytest.raises(ValueError, match="kernel='native' needs"), torch.inference_mode():
        lora_dispatch(x, idx, w, A, B, s, kernel="native")


@needs_kernel
def test_expert_ids_out_of_range_are_rejected_before_the_kernel_runs():
    x, idx, w, A, B, s = make_case(10, 4, 2, 4, 8, 8)
    idx[3, 1] = 4
    with pytest.raises(ValueError, match="ids >= 4"), torch.inference_mode():
        lora_dispatch(x, idx, w, A, B, s, kernel="native")


@pytest.fixture
def fresh_kernel_cache(tmp_path, monkeypatch):
    """A private build folder and an unloaded kernel; the loaded one is restored afterwards."""
    monkeypatch.setenv("GLIDER_NATIVE_CACHE", str(tmp_path))
    native.native_kernel.cache_clear()
    yield tmp_path
    native.native_kernel.cache_clear()


def test_switched_off_by_the_environment(fresh_kernel_cache, monkeypatch):
    monkeypatch.setenv("GLIDER_NATIVE_KERNEL", "0")
    assert native.native_kernel() is None
    x, idx, w, A, B, s = make_case(64, 8, 2, 4, 16, 24)
    with torch.inference_mode():
        out = lora_dispatch(x, idx, w, A, B, s)  # auto falls back
    torch.testing.assert_close(out, lora_loop_reference(x, idx, w, A, B, s), atol=1e-5, rtol=1e-5)


def test_a_failing_compiler_turns_the_kernel_off_with_a_warning(fresh_kernel_cache, monkeypatch, caplog):
    if not native.cpu_has_avx2_fma():
        pytest.skip("no AVX2/FMA CPU: the kernel is off before any build")
    monkeypatch.setenv("CC", "false")  # exists, exits 1
    with caplog.at_level("WARNING", logger="glider"):
        assert native.native_kernel() is None
    assert "building them failed" in caplog.text
    assert not list(fresh_kernel_cache.glob("*.so*"))  # no partial library left behind


@needs_kernel
def test_built_once_into_the_cache(fresh_kernel_cache):
    assert native.native_kernel() is not None
    built = list(fresh_kernel_cache.glob("glider_native-*.so"))
    assert len(built) == 1
    native.native_kernel.cache_clear()
    stamp = built[0].stat().st_mtime_ns
    assert native.native_kernel() is not None
    assert built[0].stat().st_mtime_ns == stamp  # reused, not rebuilt
