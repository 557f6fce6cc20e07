"""Error types shown to users.

Every problem a user can cause (a bad file, a bad flag, a half-written run) is raised as a
:class:`MimeaError` subclass whose message names the file, the line or entry, and what was
expected. The command line and the app print ``str(err)`` and never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class MimeaError(Exception):
    """Base class of every error meant for a user (printed without a traceback)."""


class DataFormatError(MimeaError):
    """A data file does not have the expected format.

    ``DataFormatError(path, line, "expected 3 tab-separated columns, found 2")`` renders as
    ``path:line: expected 3 tab-separated columns, found 2``.
    """

    def __init__(self, path: str | Path | None, line: int | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.problem = problem
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


class StrictModeError(DataFormatError):
    """A warning (duplicate or one-to-many link, ...) turned into an error by ``--strict``."""


class RunError(MimeaError):
    """A training run directory is missing, half-written, or not loadable."""


class CurationError(MimeaError):
    """A decision cannot be recorded or undone (bad value, nothing to undo, wrong dataset)."""


class ConfigError(MimeaError):
    """A configuration value is invalid (unknown modality, ratio out of range, ...)."""
