"""User-facing errors: one clear message naming the problem and the fix."""

from __future__ import annotations


class GliderError(Exception):
    """An error the user can fix (bad config, missing file, wrong shapes).

    The entry point prints only ``str(error)`` (no traceback) and exits non-zero.
    Messages name the thing that is wrong and how to fix it.
    """


class ConfigError(GliderError):
    """Unknown or inconsistent configuration value."""


class LibraryError(GliderError):
    """The expert library on disk is missing, incomplete or does not fit the backbone."""


class DataError(GliderError):
    """A data set is missing, empty or malformed."""


class InstructionError(GliderError):
    """The LLM backend or the instruction source failed or gave unusable output."""


class ReportError(GliderError):
    """Nothing to report: no run directories, or unreadable run files."""


class RoutingError(GliderError, FloatingPointError):
    """Routing scores are not finite (NaN / inf): the run stops instead of routing on them."""


def find_user_error(error: BaseException) -> GliderError | None:
    """The GliderError behind ``error``, following ``__cause__`` / ``__context__``.

    Hydra wraps exceptions raised while instantiating a ``_target_`` (InstantiationException),
    and other libraries may re-raise; the user should still see only the clear message.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, GliderError):
            return current
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return None

