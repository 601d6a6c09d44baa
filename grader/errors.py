"""Errors meant for people: each becomes one line on stderr and exit code 2."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in what the user typed or gave us (a file, a name, an option).

    The CLI prints ``str(error)`` as one line and exits with code 2; the
    traceback appears only with ``--debug``.
    """


class FileLineError(UserError):
    """A problem at a place in a file: printed as ``path:line: message``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{display_path(self.path)}:{line}" if line else display_path(self.path)
        super().__init__(f"{where}: {message}")


class GraderError(Exception):
    """A bug in an exercise's graders (not the student's fault): exit code 3."""


def display_path(path: Path | str) -> str:
    """The path relative to the working directory when it lies below it, else as given."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
