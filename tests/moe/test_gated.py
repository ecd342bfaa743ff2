"""Phatgoose gate training: the gated layer against its formula, what injection freezes, and what the
training recipe (g = 0, AdamW lr 5e-3, 100 steps) learns: a gate that opens on its task's tokens."""

from __future__ import annotations

import copy

import torch
from glider.moe.gated import GatedLoRALinear, inject_gated_expert
from glider.moe.inject import module_shapes
from tests.conftest import random_expert

def test_gated_layer_is_its_formula() -> None:
    gen = torch.Generator().manual_seed(0)
    base = torch.nn.Linear(12, 8)
    lora_A, lora_B = torch.randn(4, 12, generator=gen), torch.randn(8, 4, generator=gen)
    layer = GatedLoRALinear(base, lora_A, lora_B, scale=0.5)
    with torch.no_grad():
        layer.gate.copy_(torch.randn(12, generator=gen))
    x = torch.randn(3, 5, 12, generator=gen)
    gate = torch.sigmoid(x @ layer.gate)[..., None]  # [3, 5, 1] per token
    torch.testing.assert_close(layer(x), base(x) + gate * 0.5 * (x @ lora_A.T @ lora_B.T))
    assert [name for name, p in layer.named_parameters() if p.requires_grad] == ["gate", "base.weight", "base.bias"]


def test_injection_freezes_everything_but_the_gates(tiny_t5) -> None:
    expert = random_expert(tiny_t5, "e0", "t0")
    model = copy.deepcopy(tiny_t5)
    layers = inject_gated_expert(model, expert.lora_A, expert.lora_B, expert.scale)
    assert set(layers) == set(module_shapes(tiny_t5))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{name}.gate" for name in layers}
    assert all(not layer.gate.any() for layer in layers.values())  # init 0: sigmoid = 1/2 everywhere


def _inputs(mean: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    return mean + torch.randn(n, mean.shape[0], generator=gen)  # one task's tokens: [n, d]


def test_a_trained_gate_scores_its_own_tasks_tokens_highest() -> None:
    """Gate training as the recipe does it (g = 0, AdamW lr 5e-3, 100 steps) on a layer whose expert is
    right for task A: the outputs of ``W x + s B A x`` on A's tokens. The gate opens on A's tokens and,
    used as the Phatgoose routing key, scores A's tokens above another task's."""
    from glider.routers.phatgoose import PhatgooseScorer

    gen = torch.Generator().manual_seed(0)
    d, rank = 32, 4
    base = torch.nn.Linear(d, d)
    layer = GatedLoRALinear(base, torch.randn(rank, d, generator=gen) / d**0.5, torch.randn(d, rank, generator=gen), scale=0.5)
    for p in base.parameters():
        p.requires_grad_(False)
    task_a = torch.nn.functional.normalize(torch.randn(d, generator=gen), dim=0) * 2
    task_b = torch.nn.functional.normalize(torch.randn(d, generator=gen), dim=0) * 2
    optimizer = torch.optim.AdamW([layer.gate], lr=5e-3)
    for _ in range(100):
        x = _inputs(task_a, 64, gen)
        with torch.no_grad():
            target = base(x) + 0.5 * (x @ layer.lora_A.T @ layer.lora_B.T)  # the expert fully applied
        loss = torch.nn.functional.mse_loss(layer(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x_a, x_b = _inputs(task_a, 256, gen), _inputs(task_b, 256, gen)
    with torch.no_grad():
        assert torch.sigmoid(x_a @ layer.gate).mean() > 0.7  # from 1/2 at g = 0
        scorer = PhatgooseScorer()
        key = scorer.prepare_keys(layer.gate.detach()[None])  # [1, d]
        assert scorer.logits(x_a, key).mean() > scorer.logits(x_b, key).mean() + 0.1
