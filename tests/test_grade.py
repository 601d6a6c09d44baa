"""`dlgrade grade`: a class of mixed submissions gets exactly its scores; a killed run resumes to
the same bytes; bad folders and changed files are handled as an instructor expects."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from edit_source import replace_functions
from test_mistakes import MISTAKES, as_submission_function

from grader.cli import cli
from grader.course import Course
from grader.engine.runner import check
from grader.instructor.grade import grade_class
from grader.instructor.secret import class_secret

DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
FAST = ("perceptron", "softmax")


def make_class(course: Course, root: Path, n: int = 50) -> dict[tuple[str, str], str]:
    """``n`` students, each with one file: the reference, the stub, or a known mistake.
    Returns (student, exercise) -> kind."""
    mistakes = [(e, m) for e, m in MISTAKES if e in FAST]
    kinds = {}
    for i in range(n):
        student = f"s{i:03d}"
        folder = root / student
        folder.mkdir(parents=True)
        if i % 5 == 0:
            exercise, kind = FAST[i % 2], "reference"
            text = course.solution(exercise).read_text()
        elif i % 5 == 1:
            exercise, kind = FAST[i % 2], "stub"
            text = course.stub(exercise).read_text()
        else:
            exercise, m = mistakes[i % len(mistakes)]
            kind = f"mistake:{m.name}"
            text = replace_functions(
                course.solution(exercise).read_text(), **{m.function: as_submission_function(m)}
            )
        (folder / f"{exercise}.py").write_text(text)
        kinds[(student, exercise)] = kind
    return kinds


def test_a_class_of_fifty_gets_exactly_its_scores(course: Course, tmp_path: Path) -> None:
    submissions, out = tmp_path / "subs", tmp_path / "out"
    kinds = make_class(course, submissions)
    summary = grade_class(course, submissions, out, exercises=list(FAST), workers=2)
    assert summary["graded"] == 100 and summary["students"] == 50
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    full = {e: check(course, e, solution=True, seed=1).max_score for e in FAST}
    for (student, exercise), kind in kinds.items():
        other = FAST[1 - FAST.index(exercise)]
        assert float(rows[student][other]) == 0.0  # no file: 0, with the reason in the JSON
        got = float(rows[student][exercise])
        if kind == "reference":
            assert got == full[exercise], student
        elif kind == "stub":
            assert got == 0.0, student
        else:
            from grader.engine.seeding import seed_for_student

            expected = check(
                course,
                exercise,
                path=submissions / student / f"{exercise}.py",
                hidden=True,
                seed=seed_for_student(student, class_secret(course)),
            ).score
            assert got == expected and 0 < got < full[exercise], (student, kind)
        assert float(rows[student]["total"]) == got
    mine = json.loads((out / "s000.json").read_text())
    missing = next(r for r in mine if r["exercise"] == "softmax")
    assert missing["tests"][0]["message"] == "no file softmax.py in the submission of s000"
    report = CliRunner().invoke(cli, ["report", str(out), "--out", str(tmp_path / "report.html")])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # totals and each exercise
    assert "Mistakes most often named" in page and "No known mistake" not in page
    gradescope = json.loads((out / "gradescope" / "s000" / "results.json").read_text())
    assert gradescope["score"] == full["perceptron"]
    assert {t["visibility"] for t in gradescope["tests"]} == {"visible", "after_published"}
    assert all(
        {"name", "score", "max_score", "output", "visibility"} <= set(t)
        for t in gradescope["tests"]
    )


def test_a_class_grades_each_file_as_a_check_of_it_alone_would(
    course: Course, tmp_path: Path
) -> None:
    """Each (student, exercise) of a class gets the result of a check of that file alone."""
    from grader.engine.seeding import seed_for_student

    submissions, out = tmp_path / "subs", tmp_path / "out"
    mistakes = [(e, m) for e, m in MISTAKES if e in FAST]
    for i in range(3):
        folder = submissions / f"t{i}"
        folder.mkdir(parents=True)
        for j, exercise in enumerate(FAST):
            text = course.solution(exercise).read_text()
            if (i + j) % 3 == 1:
                text = course.stub(exercise).read_text()
            elif (i + j) % 3 == 2:
                m = next(m for e, m in mistakes if e == exercise)
                text = replace_functions(text, **{m.function: as_submission_function(m)})
            (folder / f"{exercise}.py").write_text(text)
    grade_class(course, submissions, out, exercises=list(FAST), workers=1)
    for i in range(3):
        shared = json.loads((out / f"t{i}.json").read_text())
        for exercise, result in zip(FAST, shared, strict=True):
            alone = check(
                course,
                exercise,
                path=submissions / f"t{i}" / f"{exercise}.py",
                hidden=True,
                seed=seed_for_student(f"t{i}", class_secret(course)),
            ).to_json()
            keys = ("name", "score", "max_score", "status", "message", "hint")
            assert result["score"] == alone["score"]
            for t in alone["tests"]:  # a class's results name the file as <student>/<file>
                t["message"] = t["message"].replace(f"{submissions}/", "")
            assert result["tests"] == [{k: t[k] for k in keys} for t in alone["tests"]]


def test_a_named_mistake_reaches_the_class_results(course: Course, tmp_path: Path) -> None:
    submissions = tmp_path / "subs"
    (submissions / "ann").mkdir(parents=True)
    exercise, m = next((e, m) for e, m in MISTAKES if e == "softmax" and m.function == "softmax")
    text = replace_functions(
        course.solution(exercise).read_text(), **{m.function: as_submission_function(m)}
    )
    (submissions / "ann" / f"{exercise}.py").write_text(text)
    grade_class(course, submissions, tmp_path / "out", exercises=[exercise], workers=1)
    tests = json.loads((tmp_path / "out" / "ann.json").read_text())[0]["tests"]
    assert any(t["hint"] == m.hint for t in tests)


def test_killed_run_resumes_to_byte_identical_files(course: Course, tmp_path: Path) -> None:
    submissions = tmp_path / "subs"
    make_class(course, submissions, n=10)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [*DLGRADE, "--course", str(REPO), "grade", str(submissions), "--workers", "1"]
    for name in FAST:
        args += ["--exercise", name]
    first = tmp_path / "first"
    proc = subprocess.Popen(
        [*args, "--out", str(first)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    rows = 0
    while rows < 5:
        assert time.monotonic() < deadline and proc.poll() is None, (
            "the run ended before it could be killed"
        )
        time.sleep(0.2)
        try:
            db = sqlite3.connect(first / "grading.sqlite")
            rows = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            db.close()
        except sqlite3.Error:
            rows = 0
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (first / "grades.csv").exists()
    again = subprocess.run(
        [*args, "--out", str(first)], env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr
    assert f"({rows}" in again.stdout or "unchanged since the last run kept" in again.stdout
    second = tmp_path / "second"
    whole = subprocess.run(
        [*args, "--out", str(second)], env=env, capture_output=True, text=True, timeout=600
    )
    assert whole.returncode == 0, whole.stderr
    files = sorted(
        p.relative_to(second) for p in second.rglob("*") if p.is_file() and "sqlite" not in p.name
    )
    assert len(files) == 2 + 10 + 10  # grades.csv, _run.json, and per student two files
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_changed_file_is_regraded_and_junk_is_ignored(course: Course, tmp_path: Path) -> None:
    submissions, out = tmp_path / "subs", tmp_path / "out"
    folder = submissions / "zoe"
    folder.mkdir(parents=True)
    shutil.copy(course.stub("perceptron"), folder / "perceptron.py")
    (folder / "conftest.py").write_text("raise SystemExit('never loaded')\n")
    (folder / "__pycache__").mkdir()
    (folder / "notes.txt").write_text("my notes")
    (submissions / "README.txt").write_text("a stray file beside the student folders")
    (submissions / ".ipynb_checkpoints").mkdir()  # hidden folders are not students
    first = grade_class(course, submissions, out, exercises=["perceptron"], workers=1)
    assert first["graded"] == 1
    assert (out / "grades.csv").read_text().splitlines()[1] == "zoe,0,0"
    assert grade_class(course, submissions, out, exercises=["perceptron"], workers=1)["graded"] == 0
    shutil.copy(course.solution("perceptron"), folder / "perceptron.py")
    assert grade_class(course, submissions, out, exercises=["perceptron"], workers=1)["graded"] == 1
    assert (out / "grades.csv").read_text().splitlines()[1].startswith("zoe,25,")


@pytest.mark.parametrize("name", ["has space", "-rf", "a;b"])
def test_an_unsafe_student_id_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "subs" / name).mkdir(parents=True)
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "not a safe student id" in result.output and len(result.output.strip().splitlines()) == 1
