"""What every converter shares: reading a checkpoint, matching its keys to the backbone, shape checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor

from glider.errors import LibraryError
from glider.library.expert import Expert

Shapes = dict[str, tuple[int, int]]  # backbone module -> (d_out, d_in)
STRIP_PREFIXES = ("base_model.model.", "base_model.", "model.", "transformer.", "module.")


@dataclass(frozen=True)
class BackboneLayout:
    """What a converter checks a checkpoint against: the targeted layers' shapes and every weight name.

    ``weights`` lets a converter recognise copies of the backbone's own weights that released
    files carry (skipped: they equal the backbone); any other unknown key is an error.
    """

    shapes: Shapes
    weights: frozenset[str] = frozenset()


def load_checkpoint(path: Path) -> dict[str, Tensor]:
    """A state dict from .safetensors or a torch file (.pt/.bin/.ckpt; tensors only, memory-mapped when possible)."""
    if not path.is_file():
        raise LibraryError(f"Checkpoint {path} does not exist. Fix library.import_.path.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            try:
                state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError:  # not a zip-format file: mmap is unavailable
                state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # torch / safetensors raise many types for a damaged or foreign file
        raise LibraryError(f"Cannot read checkpoint {path}: {str(err).splitlines()[0] if str(err) else type(err).__name__}. "
                           "It must be a torch state dict (.pt) or a .safetensors file of tensors.") from None
    for wrapper in ("state_dict", "model", "module"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict) and not any(isinstance(v, Tensor) for v in state.values()):
            state = state[wrapper]
    if not isinstance(state, dict):
        raise LibraryError(f"Checkpoint {path} holds a {type(state).__name__}, not a state dict of tensors: it is not a "
                           "released expert file. Nothing was imported.")
    bad = next(((k, v) for k, v in state.items() if not isinstance(k, str) or not isinstance(v, Tensor)), None)
    if bad is not None:
        raise LibraryError(f"Checkpoint {path} is not a state dict of tensors: entry {bad[0]!r} is a {type(bad[1]).__name__}. "
                           "It is not a released expert file. Nothing was imported.")
    return state


def backbone_weight(key: str, layout: BackboneLayout) -> bool:
    """Whether ``key`` names one of the backbone's own weights (after a wrapper prefix, PEFT's ``.base_layer``)."""
    name = key.replace(".base_layer.", ".")
    candidates = [name] + [name[len(p):] for p in STRIP_PREFIXES if name.startswith(p)]
    return any(c in layout.weights for c in candidates)


def unexpected_key(path: Path, key: str, fmt: str, expected: str) -> LibraryError:
    return LibraryError(
        f"Checkpoint {path} has an unexpected key '{key}': it is neither {expected} nor a weight of the backbone. "
        f"The file is not a {fmt} file for this backbone (or holds something the routed layer cannot reproduce). "
        "Nothing was imported."
    )


def resolve_module(name: str, shapes: Shapes) -> str | None:
    """The backbone module a checkpoint's module name refers to (exact, or after a wrapper prefix)."""
    if name in shapes:
        return name
    for prefix in STRIP_PREFIXES:
        if name.startswith(prefix) and name[len(prefix):] in shapes:
            return name[len(prefix):]
    return None


def unknown_module(path: Path, key: str, module: str) -> LibraryError:
    return LibraryError(
        f"Checkpoint {path} does not fit the backbone: key '{key}' adapts module '{module}', which the backbone does not "
        "have (or model.target_modules leaves out). It was made for another backbone: use the matching model=..."
    )


def check_shape(path: Path, key: str, tensor: Tensor, want: tuple[int, ...], what: str, module: str, shapes: Shapes) -> None:
    """One clear error naming the key, its shape and the shape the backbone needs."""
    if tuple(tensor.shape) != tuple(want):
        d_out, d_in = shapes[module]
        raise LibraryError(
            f"Checkpoint {path} does not fit the backbone: key '{key}' has shape {tuple(tensor.shape)} but the backbone's "
            f"layer '{module}' ({d_out}x{d_in}) needs {tuple(want)} ({what}). It was made for another backbone: use "
            "the matching model=... (e.g. model=t5_xl_lm_adapt for the released GLIDER / Phatgoose experts)."
        )


@dataclass
class ExpertParts:
    """LoRA factors and gates of one expert as they are read, per backbone module."""

    lora_A: dict[str, Tensor] = field(default_factory=dict)  # [r, d_in]
    lora_B: dict[str, Tensor] = field(default_factory=dict)  # [d_out, r]
    gates: dict[str, Tensor] = field(default_factory=dict)  # [d_in] Phatgoose gates
    prototypes: dict[str, Tensor] = field(default_factory=dict)  # [d_in] Arrow prototypes, as released
    keys: dict[str, str] = field(default_factory=dict)  # module -> a checkpoint key (for messages)

    def check(self, name: str, path: Path) -> None:
        """Structural checks (pairs of factors, gates where there is LoRA, one rank per module) without reading data."""
        missing = sorted(set(self.lora_A) ^ set(self.lora_B))
        if missing:
            raise LibraryError(f"Checkpoint {path}: expert '{name}' has lora_A without lora_B (or the reverse) for module "
                               f"'{missing[0]}'. The file is incomplete.")
        if not self.lora_A:
            raise LibraryError(f"Checkpoint {path}: no LoRA weights found for expert '{name}'.")
        missing_gates = sorted((set(self.gates) | set(self.prototypes)) - set(self.lora_A))
        if missing_gates:
            raise LibraryError(f"Checkpoint {path}: expert '{name}' has a gate for module '{missing_gates[0]}' but no LoRA there.")
        for module, a in self.lora_A.items():
            b = self.lora_B[module]
            if b.shape[1] != a.shape[0]:
                raise LibraryError(f"Checkpoint {path}: key '{self.keys.get(module, module)}' (expert '{name}') has lora_A rank "
                                   f"{a.shape[0]} but lora_B of shape {tuple(b.shape)}; they must share the rank.")

    def to_expert(self, name: str, task: str, path: Path, scale_of: Callable[[str, int], float]) -> Expert:
        """An Expert with one rank R (the largest; smaller ranks are zero-padded, which leaves B A unchanged).

        ``scale_of(module, r)`` is the module's LoRA scale in the source format; modules whose
        scale differs from the first one's get it folded into B, so s * B' A == s_m * B A exactly.
        """
        self.check(name, path)
        rank = max(a.shape[0] for a in self.lora_A.values())
        scales = {m: float(scale_of(m, a.shape[0])) for m, a in self.lora_A.items()}
        reference = next(iter(scales.values()))
        lora_A, lora_B = {}, {}
        for module, a in self.lora_A.items():
            b, r = self.lora_B[module], a.shape[0]
            a, b = a.float().contiguous(), b.float() * (scales[module] / reference)
            lora_A[module] = torch.cat([a, a.new_zeros(rank - r, a.shape[1])]) if r < rank else a
            lora_B[module] = torch.cat([b, b.new_zeros(b.shape[0], rank - r)], dim=1) if r < rank else b
        return Expert(name=name, task=task, rank=rank, lora_alpha=reference * rank, lora_A=lora_A, lora_B=lora_B,
                      gates={m: g.float().reshape(-1) for m, g in self.gates.items()},
                      prototypes={m: p.float().reshape(-1) for m, p in self.prototypes.items()})


def checkpoint_fingerprint(path: Path, **options: Any) -> dict[str, Any]:
    """What identifies an import: the file (path, size, mtime) and the converter options."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **options}


def keep_requested(found: dict[str, Path], tasks: list[str] | None, missing: Callable[[str], str]) -> dict[str, Path]:
    """``found`` restricted to ``tasks`` in their order (all of it when ``tasks`` is empty).

    A requested task that is not in ``found`` is a LibraryError with ``missing(task)``.
    """
    if not tasks:
        return found
    absent = [t for t in tasks if t not in found]
    if absent:
        raise LibraryError(missing(absent[0]))
    return {t: found[t] for t in tasks}
