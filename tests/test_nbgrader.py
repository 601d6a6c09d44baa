"""The course on nbgrader, with nbgrader itself: export, generate_assignment, autograde; the
release notebook holds no solution and no hidden test; scores equal `dlgrade check --hidden`."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from edit_source import replace_functions
from test_release import secret_lines

from grader.course import Course
from grader.engine.runner import check
from grader.engine.seeding import seed_for_student
from grader.instructor.nbgrader_export import CONFIG, export

STUDENT = "nb-student"


def _nbgrader(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DLGRADE_STUDENT": STUDENT, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _code(nb: dict) -> str:
    [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    return "".join(cell["source"])


def _submit(release: dict, root: Path, student: str, code: str | None) -> Path:
    nb = copy.deepcopy(release)
    if code is not None:
        [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
        cell["source"] = code.splitlines(keepends=True)
    folder = root / "submitted" / student / "ps1"
    folder.mkdir(parents=True)
    (folder / "softmax.ipynb").write_text(json.dumps(nb))
    return folder / "softmax.ipynb"


def test_nbgrader_round_trip(course: Course, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    root = tmp_path / "nbcourse"
    export(course, root, "ps1", ["softmax"])
    _nbgrader(["generate_assignment", "ps1"], root)
    release = json.loads((root / "release" / "ps1" / "softmax.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in release["cells"])
    release_lines = {line.strip() for line in text.splitlines()}
    leaked = secret_lines(course) & release_lines
    assert not leaked, sorted(leaked)[:5]
    assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    public = check(course, "softmax", solution=True, seed=1)
    assert text.count("run_test(") == sum(1 for t in public.tests if not t.hidden)

    source = json.loads((root / "source" / "ps1" / "softmax.ipynb").read_text())
    reference = _code(source)
    wrong = replace_functions(
        reference,
        softmax="""
        def softmax(z, axis=-1):
            e = np.exp(z - z.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
        """,
    )
    _submit(release, root, "ref", reference)
    _submit(release, root, "stub", None)
    _submit(release, root, "mistake", wrong)
    _submit(release, root, "mistake2", wrong)
    _nbgrader(["autograde", "ps1", "--create"], root)  # with DLGRADE_STUDENT set: overridden

    mistake_file = tmp_path / "softmax.py"
    mistake_file.write_text(wrong)
    students = ("ref", "stub", "mistake", "mistake2")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission("ps1", s).score for s in students}
        maximum = gb.find_submission("ps1", "ref").max_score
    assert maximum == public.max_score
    assert scores["ref"] == public.max_score
    assert scores["stub"] == 0
    for student in ("mistake", "mistake2"):  # each seeded by their own id, as `dlgrade grade`
        expected = check(
            course, "softmax", path=mistake_file, hidden=True, seed=seed_for_student(student)
        )
        assert scores[student] == expected.score and 0 < expected.score < public.max_score


def test_the_nbgrader_hook_seeds_by_the_graded_students_id(monkeypatch) -> None:
    from grader.engine.seeding import default_seed
    from grader.notebook import nbgrader_student_hook

    monkeypatch.setenv("DLGRADE_STUDENT", "the-instructor")
    nbgrader_student_hook(
        assignment="ps1", student="*", notebooks=["/c/submitted/ann/ps1/softmax.ipynb"]
    )
    assert os.environ["DLGRADE_STUDENT"] == "ann"
    assert default_seed() == seed_for_student("ann")
    assert 'pre_convert_hook = "grader.notebook.nbgrader_student_hook"' in CONFIG
