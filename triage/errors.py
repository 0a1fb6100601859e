"""Errors that reach a user as one clear message, never as a traceback."""

from __future__ import annotations

__all__ = ["InputFileError", "TriageError"]


class TriageError(Exception):
    """An error a user can act on; the CLI prints its message and exits with ``exit_code``.

    Parameters
    ----------
    message : str
        One or more sentences that say what went wrong and what to do about it.
    exit_code : int, default 2
        The process exit code the CLI uses for this error.
    """

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class InputFileError(TriageError):
    """A whole input file is refused (missing column, empty, undecodable...)."""
