"""A student's progress on each exercise: the last check's score, and what is left to write."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from grader.engine.results import ExerciseResult
from grader.paths import data_home

LOG_NAME = "checks.json"


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(log: Path) -> dict:
    try:
        data = json.loads(log.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_check(result: ExerciseResult, submission: Path, home: Path | None = None) -> None:
    """Remembers the score of a check of ``submission`` (atomic write; errors are ignored)."""
    log = (home or data_home()) / LOG_NAME
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        data = _load(log)
        data[str(submission.resolve())] = {
            "exercise": result.exercise,
            "sha256": _file_hash(submission),
            "score": result.score,
            "max_score": result.max_score,
            "time": time.time(),
        }
        tmp = log.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(log)
    except OSError:
        pass


@dataclass(frozen=True)
class Progress:
    todo: int  # functions that still raise NotImplementedError
    functions: int
    last_score: float | None = None
    last_max: float | None = None
    last_time: float | None = None
    changed_since: bool = False

    def status(self) -> str:
        parts = []
        if self.functions and self.todo == self.functions:
            parts.append("not started")
        elif self.todo:
            parts.append(f"{self.todo} of {self.functions} functions left")
        else:
            parts.append("all functions written")
        if self.last_score is not None:
            when = time.strftime("%d %b %H:%M", time.localtime(self.last_time or 0))
            changed = ", changed since" if self.changed_since else ""
            parts.append(f"last check {self.last_score:g}/{self.last_max:g} ({when}{changed})")
        return "; ".join(parts)


def _raises_not_implemented(fn: ast.AST) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False


def progress_of(submission: Path, home: Path | None = None) -> Progress | None:
    """What is known of a student's file, or None when it does not exist."""
    try:
        source = submission.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        tree = ast.parse(source)
        functions = [  # helpers the stub comes with (_sigmoid) are not the student's to write
            n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
        ]
        todo = sum(_raises_not_implemented(f) for f in functions)
    except SyntaxError:
        functions, todo = [], 0
    entry = _load((home or data_home()) / LOG_NAME).get(str(submission.resolve()))
    if not isinstance(entry, dict):
        return Progress(todo=todo, functions=len(functions))
    return Progress(
        todo=todo,
        functions=len(functions),
        last_score=entry.get("score"),
        last_max=entry.get("max_score"),
        last_time=entry.get("time"),
        changed_since=entry.get("sha256") != _file_hash(submission),
    )
