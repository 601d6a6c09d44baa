"""Fixtures shared by the project's own tests: the repository's course, an isolated home."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own $DLGRADE_HOME and a fixed student identity."""
    home = tmp_path_factory.mktemp("dlgrade-home")
    monkeypatch.setenv("DLGRADE_HOME", str(home))
    monkeypatch.setenv("DLGRADE_STUDENT", "test-student")
    monkeypatch.delenv("DLGRADE_COURSE", raising=False)
    monkeypatch.setenv("DLGRADE_SEED", "")  # what nbgrader's hook sets: restored after each test
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


@pytest.fixture(scope="session")
def course() -> Course:
    """The course of this repository (course.yaml, solutions/, exercises/)."""
    return Course.load(REPO)


@pytest.fixture
def course_copy(tmp_path: Path) -> Course:
    """A writable copy of the repository's course (course.yaml, solutions/, exercises/)."""
    import shutil

    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(REPO / "course.yaml", root / "course.yaml")
    for folder in ("solutions", "exercises"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return Course.load(root)
