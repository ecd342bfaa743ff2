"""LoRAHub (Huang et al. 2023, github sail-sg/lorahub): one expert composed per task from a few examples.

For each evaluated task t, M experts S_t are sampled from the library (fixed by the seed) and
their weights are searched without gradients (nevergrad ``NGOpt``, S evaluations):

    w* = argmin_{w in [-b, b]^M}  L_t(w) + lambda * mean_i |w_i|

where L_t(w) is the few-shot loss of the backbone with the composed expert

    A = sum_{i in S_t} w_i A_i,    B = sum_{i in S_t} w_i (s_i / s) B_i,    delta = s * B A

applied to every adapted module: the A and B factors are combined separately (not the products
B_i A_i, so the delta has cross terms w_i w_j B_i A_j). s_i = lora_alpha_i / r_i; s is the
library's first expert's scale: with equal scales (every library glider builds or imports
from the paper) s_i / s = 1 and this is exactly LoRAHub's sum of PEFT state dicts. L_t is
LoRAHub's ``default_get_loss``: the token-mean cross-entropy of the targets per batch, summed over
batches, divided by the number of examples. A candidate whose loss is not finite scores +inf.

Routing: every example of task t goes to its task's composed expert, weight 1 (top-1, as the
oracle over the composed experts; the top-k renormalisation makes it 1 / (1 + 1e-6)):

    c_i = 0 for the composed expert of the example's task, -inf otherwise.

alpha, top_k, top_p and dense do not apply (always alpha 1, top-1).

Defaults are the original GLIDER evaluator's LoRAHub rows (UNITES-Lab/glider
src/trainers/evaluator.py: 3 examples, M = 20 sampled experts, S = 10) with LoRAHub's bounds
b = 1.5 and lambda = 0.05 (src/lorahub/algorithm.py); LoRAHub's own paper setting is 5 examples,
S = 40 (``router.lorahub.examples=5 router.lorahub.steps=40``). The search itself runs in
``glider/lit/lorahub_search.py``; the composed experts are written into the model by
``glider/moe/lorahub_slots.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from glider.errors import ConfigError
from glider.routers.selection import TopK
from glider.routers.static import OracleScorer

if TYPE_CHECKING:
    from glider.routers.router import Router


@dataclass(frozen=True)
class LoraHubSettings:
    """The search's knobs (``router.lorahub``)."""

    examples: int = 3  # few-shot examples per task (GLIDER evaluator: budget = 3)
    experts: int = 20  # M, experts sampled per task (GLIDER evaluator: random.sample(paths, 20))
    steps: int = 10  # S, nevergrad evaluations (GLIDER evaluator: max_inference_step=10)
    bound: float = 1.5  # w in [-bound, bound]^M (LoRAHub)
    l1: float = 0.05  # lambda of the L1 term lambda * mean |w| (LoRAHub)

    def __post_init__(self) -> None:
        for name in ("examples", "experts", "steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"router.lorahub.{name} must be a positive integer, got {value!r}.")
        if not self.bound > 0:
            raise ConfigError(f"router.lorahub.bound must be positive (weights in [-bound, bound]), got {self.bound!r}.")
        if not self.l1 >= 0:
            raise ConfigError(f"router.lorahub.l1 must be non-negative, got {self.l1!r}.")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def l1_penalty(weights: list[float], l1: float) -> float:
    """lambda * mean_i |w_i| (LoRAHub's ``default_l1_regularization``)."""
    return l1 * sum(abs(float(w)) for w in weights) / len(weights)


class LoraHubScorer(OracleScorer):
    """Weight 1 on the composed expert of the example's own task; carries the search's settings."""

    name = "lorahub"

    def __init__(self, examples: int = 3, experts: int = 20, steps: int = 10, bound: float = 1.5, l1: float = 0.05) -> None:
        self.settings = LoraHubSettings(examples=examples, experts=experts, steps=steps, bound=float(bound), l1=float(l1))


def lorahub_settings(router: Router) -> LoraHubSettings | None:
    """The LoRAHub search settings of ``router``, or None when it is not a LoRAHub router."""
    for scorer, _ in router.global_:
        if isinstance(scorer, LoraHubScorer):
            return scorer.settings
    return None


def fit_lorahub_router(router: Router) -> None:
    """A LoRAHub router applies its task's composed expert alone: no other scorer; top-1, alpha 1.

    One expert per example has a finite score, so alpha, top_k, top_p and dense cannot change what
    is applied; they are set to alpha 1 and top-1 (the cheapest dispatch), which lets a paper
    experiment's GLIDER settings (alpha 100, top-2) compose with ``router=lorahub``.
    """
    if lorahub_settings(router) is None:
        return
    if router.mode != "routed" or router.local or len(router.global_) != 1 or router.candidates is not None:
        raise ConfigError("router=lorahub applies one composed expert per task: it takes no other scorer "
                          "(router.local=[], only the lorahub global scorer, router.mode=routed, router.candidates=null).")
    router.alpha = 1.0
    router.selection = TopK(1)
