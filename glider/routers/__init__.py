"""Routers: scorers (one file each) composed as weighted sums plus a selection rule."""

from glider.routers.registry import build_router
from glider.routers.router import Router

__all__ = ["Router", "build_router"]
