"""MoE-LoRA: a frozen backbone whose adapted linear modules route every token among N LoRA experts.

Two contracts, and the layer (:class:`glider.moe.layer.MoELoRALinear`) calls both and nothing else:

1. **The router decides.** ``route(x, context) -> (indices, weights)``: tokens ``x [T, d_in]``
   (example-major rows) and the batch's :class:`~glider.moe.context.RoutingContext` (per-example
   global scores ``bias [B, N]`` and pre-selected ``candidates [B, M]``) give every token's
   selected experts ``indices [T, k]`` (long, ``0..N-1``) and their weights ``weights [T, k]``
   (float32): the scorers and selection rule of :mod:`glider.routers` (top-k renormalised with
   +1e-6, top-p, dense), a routing error on a NaN/inf logit. The layer holds a
   :class:`~glider.routers.router.ModuleRouter` (the router bound to its module's keys) and never
   looks inside it.
2. **The expert bank applies.** ``bank(x, indices, weights, out)`` adds
   ``sum_j w_j * s_e * B_e A_e x`` into ``out [T, d_out]`` in place (an index of -1: no expert)
   and returns it (:class:`~glider.moe.bank.ExpertBank`; "apply" is its ``forward``, since
   ``nn.Module.apply`` is taken).

One PyTorch implementation of each serves CPU and GPU, float32 and bfloat16; the plain
per-expert loop they are checked against lives in the tests (``tests/moe/reference.py``).
Merged experts are one precomputed delta (:class:`~glider.moe.layer.MergedLoRALinear`);
the bare backbone gets no layer at all.
"""
