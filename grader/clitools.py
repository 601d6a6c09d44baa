"""What the command groups of `dlgrade` share: the app context, the --bank option, the console,
and the one way a command exits with a code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from rich.console import Console

from grader.course import Course
from grader.errors import UserError

F = TypeVar("F", bound=Callable[..., object])


@dataclass
class AppContext:
    """What the global options say: the course folder (None: the one holding the working
    directory) and whether errors show their traceback."""

    course_dir: Path | None
    debug: bool

    def course(self) -> Course:
        if self.course_dir is not None:
            return Course.find(self.course_dir)
        return Course.find()


pass_app = click.make_pass_decorator(AppContext)
"""Passes the command the :class:`AppContext` that the `dlgrade` group made."""


def console(stderr: bool = False) -> Console:
    """Rich console: colour on a terminal, plain text when piped (and with NO_COLOR)."""
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def exit_with(code: int) -> NoReturn:
    """Ends the command with this exit status (the group's error handling lets it through)."""
    click.get_current_context().exit(code)


def bank_option(fn: F) -> F:
    """``--bank``: the question banks to use, a folder or one bank file."""
    return click.option(
        "--bank",
        "bank_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Banks folder (default: the course's quizzes/).",
    )(fn)


def banks_folder(app: AppContext, bank_dir: Path | None) -> Path:
    """The folder (or file) of question banks: ``--bank`` if given, else the course's quizzes/."""
    if bank_dir is not None:
        if not bank_dir.exists():
            raise UserError(f"no such folder or bank file: {bank_dir}")
        return bank_dir
    path = app.course().quizzes_dir
    if not path.is_dir():
        raise UserError(f"this course has no question banks ({path} is missing)")
    return path
