"""What every module that wraps a frozen ``nn.Linear`` (as ``self.base``) exposes of it."""

from __future__ import annotations

from torch import Tensor, nn


class WrapsFrozenLinear(nn.Module):
    """``weight`` and ``bias`` read through to ``self.base`` (backbones read them, e.g. T5's ``wo`` dtype check)."""

    base: nn.Linear

    @property
    def weight(self) -> Tensor:
        """The frozen base weight."""
        return self.base.weight

    @property
    def bias(self) -> Tensor | None:
        return self.base.bias
