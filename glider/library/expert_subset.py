"""eval.experts: evaluate with part of the library (e.g. one expert alone: the best single expert per task).

    python -m glider.run stage=eval router=uniform eval.experts=[zar_kind]    # that expert, weight 1, on every task
"""

from __future__ import annotations

from typing import Any

from glider.errors import ConfigError
from glider.library.expert import Expert
from glider.routers.base import ExpertSide


def select_experts(experts: list[Expert], side: ExpertSide, names: list[str] | None) -> tuple[list[Expert], ExpertSide]:
    """The experts named ``names`` (in library order) and their part of the expert side; all for None."""
    if names is None:
        return experts, side
    unknown = [n for n in names if n not in side.names]
    if unknown or not names:
        raise ConfigError(f"eval.experts names {unknown or 'no expert'}; the library has: {', '.join(side.names)}.")
    keep = [i for i, name in enumerate(side.names) if name in names]
    return [experts[i] for i in keep], ExpertSide(
        names=[side.names[i] for i in keep],
        tasks=[side.tasks[i] for i in keep],
        instruction_emb=side.instruction_emb[keep] if side.instruction_emb is not None else None,
        input_embs=_pick(side.input_embs, keep),
        probe_queries=_pick(side.probe_queries, keep),
        instruction_samples=_pick(side.instruction_samples, keep),
    )


def _pick(values: list[Any] | None, keep: list[int]) -> list[Any] | None:
    return [values[i] for i in keep] if values is not None else None
