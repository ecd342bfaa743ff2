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
