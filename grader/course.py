"""Where a course lives on disk: course.yaml, solutions/, exercises/, quizzes/."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.errors import FileLineError, UserError

COURSE_FILE = "course.yaml"


def _line_of(path: Path, key: str) -> int | None:
    """The line of a top-level ``key:`` in a YAML file, for error messages."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


@dataclass(frozen=True)
class Course:
    """A course folder: the one holding ``course.yaml``."""

    root: Path
    title: str
    exercises: tuple[str, ...]
    # exercises students only read and run: no solution region, nothing of theirs to grade
    reading: tuple[str, ...] = ()
    # seconds all the calls of one (student, exercise) may take together
    time_budget: float = 60.0

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def quizzes_dir(self) -> Path:
        return self.root / "quizzes"

    @property
    def has_solutions(self) -> bool:
        return self.solutions_dir.is_dir()

    # -- the files of one exercise -------------------------------------------------
    def solution(self, name: str) -> Path:
        return self.solutions_dir / f"{name}.py"

    def solution_tests(self, name: str) -> Path:
        return self.solutions_dir / f"test_{name}.py"

    def stub(self, name: str) -> Path:
        return self.exercises_dir / f"{name}.py"

    def public_tests(self, name: str) -> Path:
        return self.exercises_dir / f"test_{name}.py"

    def require_exercise(self, name: str) -> str:
        """``name`` if the course has that exercise, else a UserError that suggests one."""
        if name in self.exercises:
            return name
        close = difflib.get_close_matches(name, self.exercises, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UserError(
            f"unknown exercise '{name}'{hint}; the exercises are: {', '.join(self.exercises)}"
        )

    # -- finding and loading -----------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> Course:
        path = root / COURSE_FILE
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise FileLineError(
                path, line, f"not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from exc
        if not isinstance(data, dict):
            raise FileLineError(path, 1, "expected a mapping with 'title' and 'exercises'")
        exercises = data.get("exercises")
        if not isinstance(exercises, list) or not all(isinstance(e, str) for e in exercises):
            raise FileLineError(path, None, "'exercises' must be a list of exercise names")
        if len(set(exercises)) != len(exercises):
            raise FileLineError(path, None, "an exercise is listed twice in 'exercises'")
        reading = data.get("reading") or []
        where = _line_of(path, "reading")
        if not isinstance(reading, list) or not all(isinstance(e, str) for e in reading):
            raise FileLineError(path, where, "'reading' must be a list of exercise names")
        for name in reading:
            if name not in exercises:
                raise FileLineError(
                    path, where, f"'reading' names {name!r}, which 'exercises' does not list"
                )
        budget = data.get("time_budget", 60)
        if not isinstance(budget, int | float) or isinstance(budget, bool) or budget <= 0:
            raise FileLineError(
                path,
                _line_of(path, "time_budget"),
                f"'time_budget' must be a positive number of seconds, not {budget!r}",
            )
        return cls(
            root=root.resolve(),
            title=str(data.get("title", "")),
            exercises=tuple(exercises),
            reading=tuple(reading),
            time_budget=float(budget),
        )

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        """The course holding ``start`` (default: the working directory), or ``$DLGRADE_COURSE``."""
        env = os.environ.get("DLGRADE_COURSE")
        if env and start is None:
            root = Path(env)
            if not (root / COURSE_FILE).is_file():
                raise UserError(f"DLGRADE_COURSE={env} has no {COURSE_FILE}")
            return cls.load(root)
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / COURSE_FILE).is_file():
                return cls.load(folder)
        raise UserError(
            f"no course here: run dlgrade inside a course folder (one with {COURSE_FILE}), "
            "or pass --course DIR"
        )
