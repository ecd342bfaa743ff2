"""Build a Router from its Hydra config (names of scorers, alpha, selection)."""

from __future__ import annotations

from typing import Any, Callable

from glider.errors import ConfigError
from glider.routers.arrow import ArrowScorer
from glider.routers.auto_alpha import AutoAlpha
from glider.routers.base import GlobalScorer, LocalScorer
from glider.routers.instruction import InstructionScorer
from glider.routers.lorahub import LoraHubScorer, fit_lorahub_router
from glider.routers.phatgoose import PhatgooseScorer
from glider.routers.retrieval import RetrievalScorer
from glider.routers.router import Router
from glider.routers.selection import make_selection
from glider.routers.static import OracleScorer, UniformScorer

LOCAL_SCORERS: dict[str, Callable[..., LocalScorer]] = {
    "phatgoose": PhatgooseScorer,
    "arrow": ArrowScorer,
}
GLOBAL_SCORERS: dict[str, Callable[..., GlobalScorer]] = {
    "instruction": InstructionScorer,
    "retrieval": RetrievalScorer,
    "oracle": OracleScorer,
    "uniform": UniformScorer,
    "lorahub": LoraHubScorer,
}
MODES = ("routed", "merged", "base")
ROUTER_KEYS = ("name", "mode", "local", "global_scorers", "alpha", "alpha_auto", "top_k", "top_p", "dense",
               "global_granularity", "candidates")


def _scorer_names(spec: Any) -> set[str]:
    """The scorer names of a ``local`` / ``global_scorers`` value (a list, or a mapping name -> settings)."""
    return {str(name) for name in (spec.keys() if hasattr(spec, "keys") else spec or [])}


def _scorers(spec: Any, registry: dict[str, Callable], kind: str) -> list[tuple[Any, float]]:
    """``spec``: a list of names, or a mapping name -> weight, or name -> {weight, ...kwargs}."""
    if not spec:
        return []
    items = spec.items() if hasattr(spec, "items") else [(name, 1.0) for name in spec]
    out = []
    for name, value in items:
        if name not in registry:
            raise ConfigError(f"Unknown {kind} scorer '{name}'. Choose from: {', '.join(sorted(registry))}.")
        kwargs = dict(value) if hasattr(value, "items") else {"weight": value}
        weight = float(kwargs.pop("weight", 1.0))
        out.append((registry[name](**kwargs), weight))
    return out


def build_router(
    name: str,
    local: Any = None,
    global_scorers: Any = None,
    alpha: float | str = 1.0,
    alpha_auto: dict | None = None,
    top_k: int | None = 2,
    top_p: float | None = None,
    dense: bool = False,
    mode: str = "routed",
    global_granularity: str = "example",
    candidates: int | None = None,
    **unknown: Any,
) -> Router:
    """The router described by a ``conf/router/*.yaml`` file (``conf/router/_base.yaml``: every key).

    Besides those keys a router config may hold one settings block per scorer it names, under the
    scorer's name (``router.lorahub``, referenced from ``global_scorers``); any other key is an error.
    """
    unknown = {key for key in unknown if key not in _scorer_names(local) | _scorer_names(global_scorers)}
    if unknown:
        keys = ", ".join(f"router.{k}" for k in sorted(unknown))
        raise ConfigError(
            f"Unknown router key(s) {keys}: a router takes {', '.join(ROUTER_KEYS)} (conf/router/_base.yaml), "
            "and a settings block named like one of its scorers."
        )
    if mode not in MODES:
        raise ConfigError(f"router.mode must be one of {MODES}, got '{mode}'.")
    if global_granularity not in ("example", "task"):
        raise ConfigError(f"router.global_granularity must be 'example' or 'task', got '{global_granularity}'.")
    if isinstance(alpha, str):
        if alpha != "auto":
            raise ConfigError(f"router.alpha must be a number or 'auto', got '{alpha}'.")
        alpha_value: float | AutoAlpha = AutoAlpha(**dict(alpha_auto or {}))
        alpha_value.check()
        if alpha_value.cutoff == "utility":
            alpha_value.candidate_alphas()  # a grid of fewer than two alphas is an error now, not after the probes
    else:
        alpha_value = float(alpha)
        if not alpha_value >= 0:
            raise ConfigError(
                f"router.alpha must be a number >= 0 or 'auto', got {alpha}: it scales the global scores, and a "
                "negative alpha would route each example away from the experts its instruction matches."
            )
    if candidates is not None and int(candidates) < 1:
        raise ConfigError(f"router.candidates must be a positive number of experts, got {candidates}.")
    router = Router(
        name=name,
        local=_scorers(local, LOCAL_SCORERS, "local"),
        global_=_scorers(global_scorers, GLOBAL_SCORERS, "global"),
        alpha=alpha_value,
        selection=make_selection(top_k, top_p, dense),
        mode=mode,  # type: ignore[arg-type]
        global_granularity=global_granularity,  # type: ignore[arg-type]
        candidates=int(candidates) if candidates is not None else None,
    )
    if mode == "routed" and not router.local and not router.global_:
        raise ConfigError(f"Router '{name}' routes but names no scorer: set router.local and/or router.global_scorers.")
    if candidates is not None and not router.global_:
        raise ConfigError("router.candidates pre-selects experts by global score: the router needs a global scorer.")
    fit_lorahub_router(router)
    return router
