"""Assignments, the student bundle (which must leak nothing), and the Gradescope autograder run
the way Gradescope runs it."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.course import Course
from grader.generate.pipeline import course_secrets
from grader.generate.proof import leaked_in_file
from grader.instructor.assignment import load_assignment

ASSIGNMENT = REPO / "assignments" / "week3.yaml"


def leaks_in(folder: Path, course: Course) -> list[str]:
    """Every statement of a solution region (compared as syntax trees) in a file under
    ``folder``: Python files and the code cells of notebooks."""
    secrets = course_secrets(course)
    assert len(secrets) > 100  # the scan has something to find
    return [
        f"{leak.path.relative_to(folder)}:{leak.line}: {leak.secret.text}"
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        for leak in leaked_in_file(path, secrets)
    ]


def _release(assignment: Path, out: Path, course_root: Path = REPO) -> list[Path]:
    result = CliRunner().invoke(
        cli, ["--course", str(course_root), "release", str(assignment), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return [p for p in out.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "assignment", sorted((REPO / "assignments").glob("*.yaml")), ids=lambda p: p.stem
)
def test_a_release_of_every_assignment_holds_no_solution_statement(
    course: Course, tmp_path: Path, assignment: Path
) -> None:
    out = tmp_path / "bundle"
    files = _release(assignment, out)
    assert not any("solutions" in p.parts or p.name.startswith("mistakes_") for p in files)
    assert leaks_in(out, course) == []
    hidden = _hidden_test_names(course)
    for path in out.rglob("test_*.py"):
        assert not hidden & {
            n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)
        }


def test_a_release_of_all_six_exercises_holds_no_solution_statement(
    course: Course, tmp_path: Path
) -> None:
    assignment = tmp_path / "all.yaml"
    assignment.write_text("title: All\nexercises: [" + ", ".join(course.exercises) + "]\n")
    out = tmp_path / "bundle"
    files = _release(assignment, out)
    names = {p.relative_to(out).as_posix() for p in files}
    assert {f"exercises/{e}.py" for e in course.exercises} <= names
    assert leaks_in(out, course) == []
    print(f"all six: {len(files)} files, {sum(p.stat().st_size for p in files)} bytes")


def test_a_release_that_would_hold_a_solution_statement_is_refused(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release scans what it wrote, the grader package included: a statement of a solution
    region anywhere (here, planted in the copied package) stops it, and the bundle is removed."""
    from grader.instructor import assignment as module

    copy_package = module._copy_package

    def leaky(target: Path) -> None:
        copy_package(target)
        (target / "grader" / "extra.py").write_text(
            "def f(Q, s, a, r, s_next, terminated, alpha, gamma):\n"
            "    future = 0.0 if terminated else gamma * np.max(Q[s_next])\n"
        )

    monkeypatch.setattr(module, "_copy_package", leaky)
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "release", str(ASSIGNMENT), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "grader/extra.py:2: holds a statement of the solution region at" in result.output
    assert "qlearning.py:" in result.output
    assert not any(out.iterdir())


def _hidden_test_names(course: Course) -> set[str]:
    names = set()
    for exercise in course.exercises:
        text = course.solution_tests(exercise).read_text()
        hidden = text.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        names |= {n.name for n in ast.walk(ast.parse(hidden)) if isinstance(n, ast.FunctionDef)}
    assert names
    return names


def test_the_release_bundle_has_what_a_student_needs(tmp_path: Path) -> None:
    out = tmp_path / "week3"
    files = _release(ASSIGNMENT, out)
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
    assert "backprop: no file backprop.py" in results["output"]
    conv = [t for t in results["tests"] if t["name"].startswith("conv:")]
    assert conv and all(t["score"] == 0 and "not written yet" in t["output"] for t in conv)
