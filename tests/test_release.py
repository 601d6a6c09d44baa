"""Assignments, the student bundle (which must leak nothing), and the Gradescope autograder run
the way Gradescope runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.course import Course
from grader.instructor.assignment import load_assignment

ASSIGNMENT = REPO / "assignments" / "week3.yaml"
SECRET_REGIONS = [
    (re.compile(r"### BEGIN SOLUTION"), re.compile(r"### END SOLUTION")),
    (re.compile(r"### BEGIN HIDDEN TESTS"), re.compile(r"### END HIDDEN TESTS")),
]


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def secret_lines(course: Course) -> set[str]:
    """Every line only the instructor has: solution regions, hidden tests, known mistakes; minus
    lines that also appear in what students get anyway (a helper shared with a public test)."""
    secret: set[str] = set()
    public: set[str] = set()
    for exercise in course.exercises:
        for path in (course.solution(exercise), course.solution_tests(exercise)):
            inside = False
            for line in path.read_text().splitlines():
                if any(begin.search(line) for begin, _ in SECRET_REGIONS):
                    inside = True
                elif any(end.search(line) for _, end in SECRET_REGIONS):
                    inside = False
                elif inside:
                    secret.add(line.strip())
        mistakes = course.solutions_dir / f"mistakes_{exercise}.py"
        secret |= {
            line.strip() for line in mistakes.read_text().splitlines() if line.startswith(" ")
        }
        public |= _lines(course.stub(exercise).read_text()) | _lines(
            course.public_tests(exercise).read_text()
        )
    return {s for s in secret - public if len(s) >= 12 and not s.startswith("#")}


def test_the_release_bundle_leaks_nothing(course: Course, tmp_path: Path) -> None:
    out = tmp_path / "week3"
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "release", str(ASSIGNMENT), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    secret = secret_lines(course)
    assert len(secret) > 200  # the scan has something to find
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not any("solutions" in p.parts or p.name.startswith("mistakes_") for p in files)
    for path in files:
        leaked = secret & _lines(path.read_text(errors="replace"))
        assert not leaked, (path, sorted(leaked)[:5])
    names = {p.relative_to(out).as_posix() for p in files}
    assert {
        "README.md",
        "course.yaml",
        "pyproject.toml",
        "exercises/conv.py",
        "exercises/test_conv.py",
    } <= names
    assert {
        "quizzes/convolution.yaml",
        "quizzes/losses.yaml",
    } <= names and "quizzes/perceptron.yaml" not in names
    assert not any(n.startswith("exercises/") and "perceptron" in n for n in names)
    readme = (out / "README.md").read_text()
    assert "Thursday 10 December 2026, 23:59" in readme and "dlgrade check backprop" in readme
    assert "--topic convolution --topic losses" in readme


def test_the_bundle_works_as_a_course_for_the_student(tmp_path: Path) -> None:
    out = tmp_path / "week3"
    CliRunner().invoke(cli, ["--course", str(REPO), "release", str(ASSIGNMENT), "--out", str(out)])
    listed = CliRunner().invoke(cli, ["--course", str(out), "list"])
    assert (
        listed.exit_code == 0 and "backprop" in listed.output and "qlearning" not in listed.output
    )
    checked = CliRunner().invoke(cli, ["--course", str(out), "check", "softmax", "--json"])
    assert checked.exit_code == 1 and json.loads(checked.output)["score"] == 0
    hidden = CliRunner().invoke(cli, ["--course", str(out), "check", "softmax", "--hidden"])
    assert hidden.exit_code == 2 and "solutions/" in hidden.output


def test_release_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "release", str(ASSIGNMENT), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and "not empty" in result.output
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: t\nexercises: [nope]\n", "unknown exercise 'nope'"),
        ("title: t\nexercises:\n  - {name: conv, weight: -1}\n", "must be a positive number"),
        ("title: t\nexercises: [conv]\ndue: next week\n", "is not a date"),
        ("title: t\nexercises: [conv]\nquiz: {topics: [quantum]}\n", "quiz topic 'quantum'"),
        ("title: [t\n", "YAML syntax"),
    ],
)
def test_a_bad_assignment_is_one_line_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "release", str(path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and message in result.output and str(path) in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- Gradescope -----------------------------------------------------------------------------------
def _autograder(tmp_path: Path) -> Path:
    """The zip, unpacked the way Gradescope does: /autograder/source, submission, results."""
    zip_path = tmp_path / "autograder.zip"
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "gradescope", "build", str(ASSIGNMENT), "--out", str(zip_path)]
    )
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        assert {"setup.sh", "run_autograder", "assignment.yaml", "solutions/test_conv.py"} <= set(
            names
        )
        z.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):  # zipfile drops the mode; Gradescope keeps it
        (root / "source" / name).chmod(0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    (root / "submission_metadata.json").write_text(
        json.dumps({"users": [{"email": "ada@uni.edu", "name": "Ada"}]})
    )
    return root


def _run_autograder(root: Path) -> dict:
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "PATH": os.path.dirname(shutil.which("dlgrade") or "") + ":" + os.environ["PATH"],
    }
    proc = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_gradescope_run_autograder_on_the_reference_gives_100(
    course: Course, tmp_path: Path
) -> None:
    root = _autograder(tmp_path)
    folder = root / "submission" / "my-work"  # students upload folders too
    folder.mkdir()
    for exercise in load_assignment(ASSIGNMENT, course).exercises:
        shutil.copy(course.solution(exercise), folder / f"{exercise}.py")
    results = _run_autograder(root)
    assert results["score"] == pytest.approx(100.0)
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert all(t["score"] == t["max_score"] for t in results["tests"])


def test_gradescope_partial_submission_is_scored_by_weight(course: Course, tmp_path: Path) -> None:
    root = _autograder(tmp_path)
    shutil.copy(course.solution("softmax"), root / "submission" / "softmax.py")  # weight 0.2
    shutil.copy(course.stub("conv"), root / "submission" / "conv.py")
    results = _run_autograder(root)
    assert results["score"] == pytest.approx(20.0)
    assert "backprop.py was not found" in results["output"]
    conv = [t for t in results["tests"] if t["name"].startswith("conv:")]
    assert conv and all(t["score"] == 0 and "not written yet" in t["output"] for t in conv)
