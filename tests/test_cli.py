"""The `dlgrade` command as students and instructors type it: exit codes, output, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.course import Course
from grader.engine.runner import collect_graders
from grader.schemas import schema

CHECK_SCHEMA = schema("check")  # the package's contract (docs/json.md)


def run(*args: str, course: Course | None = None):
    prefix = ["--course", str(course.root)] if course else ["--course", str(REPO)]
    return CliRunner().invoke(cli, [*prefix, *args])


def test_check_json_matches_the_schema(course: Course) -> None:
    result = run("check", "softmax", "--json", "--seed", "4")
    assert result.exit_code == 1
    data = json.loads(result.output)
    jsonschema.validate(data, CHECK_SCHEMA)
    assert data["exercise"] == "softmax" and data["score"] == 0
    assert data["max_score"] == sum(t["max_score"] for t in data["tests"])


def test_check_solution_json_is_full_marks() -> None:
    result = run("check", "perceptron", "--solution", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    jsonschema.validate(data, CHECK_SCHEMA)
    assert data["score"] == data["max_score"] == 25
    assert all(t["status"] == "passed" and t["message"] == "" for t in data["tests"])


def test_check_table_has_tests_total_and_messages() -> None:
    result = run("check", "softmax")
    assert result.exit_code == 1
    out = result.output
    assert "test_softmax_matches_torch" in out and "total" in out and "0 / 15" in out
    assert "softmax is not written yet" in out
    assert "\x1b[" not in out  # no colour codes when not on a terminal


def test_check_solution_table_says_full_marks() -> None:
    result = run("check", "softmax", "--solution")
    assert result.exit_code == 0
    assert "Full marks: 25 / 25" in result.output and "hidden" in result.output


def test_unknown_exercise_is_one_line_exit_2() -> None:
    result = run("check", "sofmax")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "dlgrade: error: unknown exercise 'sofmax' (did you mean softmax?); the exercises are: "
        + ", ".join(Course.load(REPO).exercises)
    )


def test_missing_path_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("check", "softmax", "--path", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "no such file" in result.output and len(result.output.strip().splitlines()) == 1


def test_solution_with_path_is_refused() -> None:
    result = run("check", "softmax", "--solution", "--path", "x.py")
    assert result.exit_code == 2 and "cannot be combined" in result.output


def test_hidden_without_solutions_is_refused(course_copy: Course) -> None:
    import shutil

    shutil.rmtree(course_copy.solutions_dir)
    result = run("check", "softmax", "--hidden", course=course_copy)
    assert result.exit_code == 2 and "needs the instructor's solutions/" in result.output


def test_no_course_here(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 2
    assert "no course here" in result.output


def test_list_shows_points_and_progress(course_copy: Course) -> None:
    result = run("list", course=course_copy)
    assert result.exit_code == 0, result.output
    assert "perceptron" in result.output and "11" in result.output and "15" in result.output
    assert "not started" in result.output
    lstm_row = next(
        line for line in result.output.splitlines() if line.strip("│ ").startswith("lstm")
    )
    assert "not started" in lstm_row, "the stub's own helper (_sigmoid) is not a function to write"
    public = {
        name: sum(t.max_score for t in collect_graders(course_copy.public_tests(name), name))
        for name in course_copy.exercises
    }
    total_row = next(line for line in result.output.splitlines() if "total" in line)
    assert f"{sum(public.values()):g}" in total_row
    stub = course_copy.stub("softmax")
    stub.write_text(course_copy.solution("softmax").read_text())
    assert run("check", "softmax", course=course_copy).exit_code == 0
    after = run("list", course=course_copy).output
    assert "all functions written" in after and "last check 15/15" in after
    assert "last checks: 15 of 15 points" in after
    stub.write_text(stub.read_text() + "\n")
    assert "changed since" in run("list", course=course_copy).output


def test_every_command_has_help_with_an_example() -> None:
    for command in ("list", "check", "generate"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output, command


def dlgrade(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_stub_check_in_a_real_process_exits_1_without_traceback() -> None:
    proc = dlgrade(
        "check", "perceptron", cwd=REPO / "exercises"
    )  # the course is found from a subfolder
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "predict is not written yet" in proc.stdout


def test_errors_show_a_traceback_only_with_debug(tmp_path: Path) -> None:
    proc = dlgrade(
        "--course", str(REPO), "check", "softmax", "--path", str(tmp_path / "x.py"), cwd=tmp_path
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = dlgrade(
        "--course",
        str(REPO),
        "--debug",
        "check",
        "softmax",
        "--path",
        str(tmp_path / "x.py"),
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_plain_pytest_on_exercises_runs_the_public_tests(course_copy: Course) -> None:
    """Students may also run `pytest exercises/`: the plugin provides the fixtures and counts points."""
    env = {**os.environ, "DLGRADE_STUDENT": "x"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "exercises/test_softmax.py",
        ],
        cwd=course_copy.root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "dlgrade: 0 / 15 points" in proc.stdout
    course_copy.stub("softmax").write_text(course_copy.solution("softmax").read_text())
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "exercises/test_softmax.py",
        ],
        cwd=course_copy.root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert "dlgrade: 15 / 15 points" in proc.stdout


def _properties(node: object) -> set[str]:
    """Every property name a JSON Schema defines, at any depth."""
    if isinstance(node, dict):
        names = (
            set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        )
        return names | {n for v in node.values() for n in _properties(v)}
    if isinstance(node, list):
        return {n for v in node for n in _properties(v)}
    return set()


def test_docs_json_names_every_field_of_every_schema() -> None:
    from grader.schemas import NAMES

    text = (REPO / "docs" / "json.md").read_text()
    for name in NAMES:
        for field in _properties(schema(name)):
            assert f"`{field}`" in text, (name, field)


def test_the_quiz_json_matches_its_schema(tmp_path) -> None:
    import os

    result = CliRunner().invoke(
        cli,
        ["--course", str(REPO), "quiz", "practice", "--n", "2", "--seed", "3", "--json"],
        input="a\n\n",
        env={**os.environ, "DLGRADE_HOME": str(tmp_path)},
    )
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output[result.output.index("{") :])
    jsonschema.validate(data, schema("quiz"))


def test_check_all_grades_every_exercise_and_gives_the_course_total() -> None:
    result = run("check", "--all", "--seed", "2")
    assert result.exit_code == 1
    for name in Course.load(REPO).exercises:
        assert f"{name} — exercises/{name}.py" in result.output
    assert "course total" in result.output and "0 of 6 exercises at full marks" in result.output
    data = json.loads(run("check", "--all", "--solution", "--json").output)
    assert data["score"] == data["max_score"] == sum(e["max_score"] for e in data["exercises"])
    assert [e["exercise"] for e in data["exercises"]] == list(Course.load(REPO).exercises)
    for exercise in data["exercises"]:
        jsonschema.validate(exercise, CHECK_SCHEMA)


def test_check_needs_an_exercise_or_all() -> None:
    assert run("check").exit_code == 2
    result = run("check", "softmax", "--all")
    assert result.exit_code == 2 and "--all checks every exercise" in result.output


def test_parametrised_tests_show_their_parameters(tmp_path: Path) -> None:
    """A test's [parameters] are part of its name in the report (not swallowed as markup)."""
    from io import StringIO

    from rich.console import Console

    from grader.check_report import render_check
    from grader.engine.results import ExerciseResult, TestResult

    result = ExerciseResult(
        "toy",
        [
            TestResult("test_activation[relu]", 1, "failed", "wrong"),
            TestResult("test_x[2-3]", 1, "passed"),
        ],
        seed=1,
        submission="toy.py",
    )
    out = StringIO()
    render_check(result, Console(file=out, width=120))
    assert "test_activation[relu]" in out.getvalue() and "test_x[2-3]" in out.getvalue()


def test_ctrl_c_during_a_check_says_interrupted_and_exits_130(monkeypatch) -> None:
    import grader.engine.runner as runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_check", interrupted)
    result = run("check", "softmax")
    assert result.exit_code == 130
    assert "interrupted" in result.output and "grader problem" not in result.output


def test_ctrl_c_inside_the_graders_reaches_the_caller(tmp_path: Path) -> None:
    """pytest turns Ctrl-C into an exit code; the engine raises KeyboardInterrupt again."""
    import pytest

    from grader.engine.runner import run_graders

    graders = tmp_path / "test_toy.py"
    graders.write_text(
        "import pytest\n\n@pytest.mark.points(1)\ndef test_ctrl_c(student):\n"
        "    raise KeyboardInterrupt\n"
    )
    (tmp_path / "toy.py").write_text("")
    with pytest.raises(KeyboardInterrupt):
        run_graders(graders, tmp_path / "toy.py", exercise="toy", seed=0)


def test_plural_says_every_count_the_same_way() -> None:
    """One plural() for every count the commands print: one is singular, anything else is not,
    and a float count is written as :g writes it."""
    from grader.wording import plural

    assert plural(1, "student") == "1 student"
    assert plural(0, "file") == "0 files"
    assert plural(3, "open question") == "3 open questions"
    assert plural(2.5, "point") == "2.5 points"
    assert plural(1.0, "point") == "1 point"
    assert plural(2, "body", "bodies") == "2 bodies"
