"""Whether the Hugging Face hub must not be contacted (``HF_HUB_OFFLINE``)."""

from __future__ import annotations

import os


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}:
            return True
    return False


def local_only(model_name_or_path: str) -> bool:
    """Load without the hub when offline or when the model is a local directory."""
    return hub_offline() or os.path.isdir(os.path.expanduser(model_name_or_path))
