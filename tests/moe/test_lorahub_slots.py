"""router=lorahub's composed expert against LoRAHub's recipe done by hand on PEFT-format factors.

LoRAHub sums the experts' PEFT state dicts weighted by w (A and B separately) and loads the sum into
a PEFT LoRA model. Here that is done by hand on the adapters the library writes, and peft's own model
with the summed factors must give the logits of glider's routed model with the composed slot.
"""

from __future__ import annotations

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
from safetensors.torch import load_file

from glider.errors import LibraryError
from glider.library.expert import Expert
from glider.library.peft_format import ADAPTER_WEIGHTS, write_peft_adapter
from glider.moe.inject import DEFAULT_TARGETS
from glider.moe.lorahub_slots import SlotComposer, composition_slots
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers.base import QueryBatch
from glider.routers.registry import build_router
from tests.conftest import random_expert

WEIGHTS = [0.7, -1.2, 0.4]


def _lorahub_model(model: torch.nn.Module, experts: list[Expert], tasks: list[str]) -> tuple[RoutedSeq2Seq, list[Expert]]:
    router = build_router("lorahub", global_scorers={"lorahub": {}}, top_k=1)
    slots = composition_slots(experts, tasks)
    return RoutedSeq2Seq(copy.deepcopy(model), router, slots), slots


def _logits(routed: RoutedSeq2Seq, task: str, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    with torch.no_grad(), routed.batch(QueryBatch(tasks=[task] * inputs.shape[0]), inputs.shape[0]):
        return routed.model(input_ids=inputs, labels=labels).logits


def test_composed_slot_equals_peft_with_the_hand_summed_factors(tiny_t5, tmp_path) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", rank=4, alpha=8.0, seed=i, with_keys=False) for i in range(3)]
    summed: dict[str, torch.Tensor] = {}
    for expert, w in zip(experts, WEIGHTS):  # LoRAHub: final_state_dict[key] += w_i * lora_state_dict[key]
        write_peft_adapter(tmp_path / expert.name, expert.lora_A, expert.lora_B, expert.rank, expert.lora_alpha, None)
        for key, value in load_file(str(tmp_path / expert.name / ADAPTER_WEIGHTS)).items():
            summed[key] = summed.get(key, torch.zeros_like(value)) + w * value
    peft_model = get_peft_model(copy.deepcopy(tiny_t5), LoraConfig(r=4, lora_alpha=8.0, target_modules=list(DEFAULT_TARGETS), lora_dropout=0.0))
    result = set_peft_model_state_dict(peft_model, summed)
    assert not result.unexpected_keys
    peft_model.eval()

    routed, _ = _lorahub_model(tiny_t5, experts, ["other", "mine"])
    SlotComposer(routed.layers, experts, experts[0].scale).write(1, WEIGHTS)
    inputs, labels = torch.randint(3, 64, (2, 7)), torch.randint(3, 64, (2, 4))
    with torch.no_grad():
        want = peft_model(input_ids=inputs, labels=labels).logits
    got = _logits(routed, "mine", inputs, labels)
    base = copy.deepcopy(tiny_t5)(input_ids=inputs, labels=labels).logits
    assert (want - base).abs().max() > 1e-2  # the composition changes the outputs
    # the top-1 weight is 1 / (1 + 1e-6) (top-k renormalisation): the composed deltas enter scaled by 1 - 1e-6
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    for layer in routed.layers:  # the factors themselves: A = sum w A_i, B = sum w B_i (the slot keeps the scale s)
        key = f"base_model.model.{layer.module_name}.lora_"
        torch.testing.assert_close(layer.experts.lora_A[1], summed[key + "A.weight"], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(layer.experts.lora_B[1], summed[key + "B.weight"], rtol=1e-6, atol=1e-6)
        assert float(layer.experts.scale[1]) == experts[0].scale
        assert not layer.experts.lora_A[0].any()  # the other task's slot is untouched


def test_other_scales_enter_b_relative_to_the_first_experts_and_ranks_pad(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, "a", "ta", rank=4, alpha=8.0, seed=1, with_keys=False),
               random_expert(tiny_t5, "b", "tb", rank=2, alpha=1.0, seed=2, with_keys=False)]
    routed, slots = _lorahub_model(tiny_t5, experts, ["t"])
    assert slots[0].rank == 4 and slots[0].scale == experts[0].scale
    w = [0.5, 1.3]
    SlotComposer(routed.layers, experts, experts[0].scale).write(0, w)
    for layer in routed.layers:
        m = layer.module_name
        a = torch.cat([w[0] * experts[0].lora_A[m][:2] + w[1] * experts[1].lora_A[m], w[0] * experts[0].lora_A[m][2:]])
        b = torch.cat([w[0] * experts[0].scale * experts[0].lora_B[m][:, :2] + w[1] * experts[1].scale * experts[1].lora_B[m],
                       w[0] * experts[0].scale * experts[0].lora_B[m][:, 2:]], dim=1)
        delta = layer.experts.scale[0] * layer.experts.lora_B[0] @ layer.experts.lora_A[0]  # what the layer applies with routing weight 1
        torch.testing.assert_close(delta, b @ a, rtol=1e-5, atol=1e-6)


def test_a_single_expert_with_weight_one_is_that_expert(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i, with_keys=False) for i in range(3)]
    routed, _ = _lorahub_model(tiny_t5, experts, ["t1"])
    SlotComposer(routed.layers, experts, experts[0].scale).write(0, [0.0, 1.0, 0.0])
    oracle = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("oracle", global_scorers=["oracle"], top_k=1), experts)
    inputs, labels = torch.randint(3, 64, (3, 6)), torch.randint(3, 64, (3, 3))
    torch.testing.assert_close(_logits(routed, "t1", inputs, labels), _logits(oracle, "t1", inputs, labels), rtol=1e-5, atol=1e-6)


def test_experts_that_disagree_on_a_module_shape_are_one_clear_error(tiny_t5) -> None:
    good = random_expert(tiny_t5, "good", "t", with_keys=False)
    bad = copy.deepcopy(good)
    bad.name = "bad"
    module = next(iter(bad.lora_A))
    bad.lora_A[module] = torch.zeros(bad.rank, 3)
    with pytest.raises(LibraryError, match=f"Experts 'good' and 'bad' adapt module '{module}' with different shapes"):
        composition_slots([good, bad], ["t"])
