"""Inject MoE-LoRA layers into a backbone (replace the targeted nn.Linear modules in place)."""

from __future__ import annotations

from torch import nn

from glider.library.stack import ModuleStack
from glider.moe.bank import ExpertBank
from glider.moe.context import RoutingContext
from glider.moe.layer import MergedLoRALinear, MoELoRALinear
from glider.moe.merged import merged_delta
from glider.routers.router import Router

DEFAULT_TARGETS = ("q", "k", "v", "o", "wi", "wi_0", "wi_1", "wo")


def target_linear_modules(model: nn.Module, targets: list[str] | tuple[str, ...] = DEFAULT_TARGETS) -> dict[str, nn.Linear]:
    """Linear modules whose last name component is a target (T5: attention q,k,v,o and FFN wi/wi_0/wi_1/wo)."""
    found = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and name.rsplit(".", 1)[-1] in targets:
            found[name] = module
    return found


def module_shapes(model: nn.Module, targets: list[str] | tuple[str, ...] = DEFAULT_TARGETS) -> dict[str, tuple[int, int]]:
    """(d_out, d_in) of every targeted linear module."""
    return {name: (m.out_features, m.in_features) for name, m in target_linear_modules(model, targets).items()}


def inject_moe(model: nn.Module, stacks: dict[str, ModuleStack], router: Router, context: RoutingContext) -> list[nn.Module]:
    """Replace each module named in ``stacks``: a MoELoRALinear (a MergedLoRALinear for router.mode=merged)."""
    layers = []
    for name, stack in stacks.items():
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        base = getattr(parent, child)
        if isinstance(base, (MoELoRALinear, MergedLoRALinear)):
            base = base.base
        if router.mode == "merged":
            layer: nn.Module = MergedLoRALinear(base, merged_delta(stack.lora_A, stack.lora_B, stack.scale))
        else:
            experts = ExpertBank(stack.lora_A, stack.lora_B.transpose(1, 2), stack.scale)
            layer = MoELoRALinear(base, name, experts, router.bind_module(name, stack.keys), context)
        setattr(parent, child, layer)
        layers.append(layer)
    return layers
