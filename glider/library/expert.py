"""One expert: a LoRA per adapted module, plus its routing keys and its card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor


@dataclass
class Expert:
    """A LoRA expert for one task.

    ``lora_A[m]``: [r, d_in], ``lora_B[m]``: [d_out, r] for every adapted module ``m``;
    its LoRA scale is ``lora_alpha / r``. ``gates[m]`` ([d_in]) are Phatgoose gate vectors,
    ``prototypes[m]`` ([d_in]) Arrow prototypes; both may be absent until their stage ran.
    """

    name: str
    task: str
    rank: int
    lora_alpha: float
    lora_A: dict[str, Tensor]
    lora_B: dict[str, Tensor]
    gates: dict[str, Tensor] = field(default_factory=dict)
    prototypes: dict[str, Tensor] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """LoRA scale s = lora_alpha / r."""
        return self.lora_alpha / self.rank

    @property
    def modules(self) -> list[str]:
        return list(self.lora_A)

    def shapes(self) -> dict[str, tuple[int, int]]:
        """(d_out, d_in) of every adapted module."""
        return {m: (self.lora_B[m].shape[0], self.lora_A[m].shape[1]) for m in self.lora_A}
