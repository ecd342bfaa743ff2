"""Which ``adapter_config.json`` options a routed LoRA expert reproduces (PEFT LoRA adapters).

The routed layer computes ``y = W x + b + s B A x`` per module, with ``s = lora_alpha / r``
(``alpha_pattern`` / ``rank_pattern`` per module, ``lora_alpha / sqrt(r)`` with rsLoRA). An
adapter whose config asks for anything else (a bias on B, trained copies of whole modules,
LoRA on some layers only, trainable token embeddings, DoRA, ...) would give other outputs
than PEFT's: it is refused as a whole, never imported in part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from glider.errors import LibraryError

# options the routed layer uses (the scale and the ranks)
USED = {"peft_type", "r", "lora_alpha", "use_rslora", "rank_pattern", "alpha_pattern", "target_modules"}
# options that do not change a saved adapter's outputs (bookkeeping, dropout, how the factors were initialised)
INERT = {
    "task_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "inference_mode", "exclude_modules",
    "lora_dropout", "init_lora_weights", "loftq_config", "eva_config", "corda_config", "lora_ga_config", "megatron_config",
    "megatron_core", "layers_pattern", "qalora_group_size", "runtime_config", "ensure_weight_tying",
}
# init_lora_weights values that rewrite the base weights (the adapter needs that modified base unless converted on save)
BASE_CHANGING_INITS = ("pissa", "olora", "loftq", "corda")


def _set(value: Any) -> bool:
    """Whether an option is set to something other than its off value."""
    return value not in (None, False, "none", "", [], {}, 0)


# refused options: the predicate says when the option is in use, the text what it does
REFUSED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "bias": (lambda v: v not in (None, "none"), "trains the base layers' biases (bias='{value}'), saved outside lora_A/lora_B"),
    "lora_bias": (_set, "adds a trained bias to lora_B"),
    "modules_to_save": (_set, "trains and saves whole copies of modules ({value})"),
    "layers_to_transform": (_set, "puts LoRA on some layers only ({value}), while routing treats every targeted layer alike"),
    "layer_replication": (_set, "replicates layers of the base model"),
    "trainable_token_indices": (_set, "trains embeddings of some tokens ({value})"),
    "use_dora": (_set, "is a DoRA adapter: its magnitude vectors have no place in a LoRA expert"),
    "fan_in_fan_out": (_set, "stores weights transposed for Conv1D layers (GPT-2 style); T5 adapters never do"),
    "use_qalora": (_set, "is a QA-LoRA adapter (pooled inputs)"),
    "alora_invocation_tokens": (_set, "is an activated LoRA (applied from an invocation token on)"),
    "target_parameters": (_set, "adapts parameters directly ({value}), not linear layers"),
    "use_bdlora": (_set, "uses block-diagonal LoRA"),
    "arrow_config": (_set, "carries PEFT's own Arrow routing"),
    "velora_config": (_set, "uses VeLoRA"),
    "monteclora_config": (_set, "uses MonteCLoRA"),
    "kasa_config": (_set, "uses KaSA"),
}


def check_peft_options(directory: Path, config: dict[str, Any]) -> None:
    """One clear error for the first option the routed layer cannot reproduce; nothing is imported."""
    where = directory / "adapter_config.json"
    if config.get("peft_type", "LORA") != "LORA":
        raise LibraryError(f"{directory} holds a {config.get('peft_type')} adapter; only LoRA adapters can be imported.")
    for key, (in_use, what) in REFUSED.items():
        value = config.get(key)
        if value is not None and in_use(value):
            raise LibraryError(f"{where} sets {key}={value!r}: the adapter {what.format(value=value)}, which the routed LoRA "
                               f"layer (W x + s B A x) does not reproduce, so its outputs would differ from PEFT's. Save it "
                               f"without {key} (or merge that part into the base model). Nothing was imported.")
    init = str(config.get("init_lora_weights", True)).lower()
    if init.startswith(BASE_CHANGING_INITS):
        raise LibraryError(f"{where} sets init_lora_weights={config['init_lora_weights']!r}, which rewrites the base weights: "
                           "the adapter only works on that modified base. Save it converted to a plain LoRA (PEFT's "
                           "path_initial_model_for_weight_conversion). Nothing was imported.")
    unknown = sorted(k for k, v in config.items() if k not in USED | INERT | set(REFUSED) and _set(v))
    if unknown:
        raise LibraryError(f"{where} sets option {unknown[0]}={config[unknown[0]]!r}, which glider does not know: it cannot "
                           "tell whether the routed layer reproduces it. Remove it if it does not change the adapter's "
                           "outputs. Nothing was imported.")
