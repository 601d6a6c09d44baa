"""Stubs proven to be stubs: marker typos, files without markers and solutions outside a function
stop generate, release and the Gradescope build with file:line; the syntax-tree proofs catch a
stub or a public file that is not what generation should give; every stub scores 0."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.course import Course
from grader.engine.runner import check
from grader.errors import FileLineError
from grader.generate import check_course, generate_course, markers
from grader.generate.markers import BEGIN_SOLUTION, END_SOLUTION, find_regions
from grader.generate.pipeline import course_secrets
from grader.generate.proof import check_stub, leaked

# (the marker it replaces, the typo): each must stop generate, release and gradescope build
SOLUTION_TYPOS = [
    ("### BEGIN SOLUTION", "## BEGIN SOLUTION"),
    ("### BEGIN SOLUTION", "#### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION", "### begin solution"),
    ("### BEGIN SOLUTION", "### Begin Solution"),
    ("### BEGIN SOLUTION", "### BEGIN SOLUTON"),
    ("### BEGIN SOLUTION", "### BEGNI SOLUTION"),
    ("### BEGIN SOLUTION", "###BEGIN SOLUTION"),
    ("### BEGIN SOLUTION", "### BEGIN  SOLUTION"),
    ("### BEGIN SOLUTION", "# BEGIN_SOLUTION"),
    ("### BEGIN SOLUTION", "### BEGIN SOLUTION: the max shift"),
    ("### END SOLUTION", "### END SOLUTIONS"),
    ("### END SOLUTION", "## END SOLUTION"),
    ("### END SOLUTION", "### end solution"),
    ("### END SOLUTION", "### END SOLUTON"),
]
HIDDEN_TYPOS = [
    ("### BEGIN HIDDEN TESTS", "### BEGIN HIDDEN TEST"),
    ("### BEGIN HIDDEN TESTS", "## BEGIN HIDDEN TESTS"),
    ("### BEGIN HIDDEN TESTS", "### begin hidden tests"),
    ("### END HIDDEN TESTS", "### END HIDDEN TEST"),
    ("### END HIDDEN TESTS", "### END HIDEN TESTS"),
]


def _replace_first(path: Path, old: str, new: str) -> int:
    """Replaces the first line that is ``old`` (stripped) with ``new``; returns its number."""
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip() == old)
    indent = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
    lines[number] = indent + new
    path.write_text("\n".join(lines) + "\n")
    return number + 1


def _assignment(course: Course, exercises: list[str]) -> Path:
    path = course.root / "assignments" / "a.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("title: A\nexercises: [" + ", ".join(exercises) + "]\n")
    return path


def _refused_everywhere(course: Course, where: str, tmp_path: Path) -> None:
    """generate, generate --check, release and gradescope build each exit 2 with one line
    starting ``where`` (file:line), no traceback, and the release folder stays empty."""
    assignment = _assignment(course, ["softmax", "conv"])
    out = tmp_path / "release"
    commands = {
        "generate": ["generate"],
        "generate --check": ["generate", "--check"],
        "release": ["release", str(assignment), "--out", str(out)],
        "gradescope build": [
            "gradescope",
            "build",
            str(assignment),
            "--out",
            str(tmp_path / "ag.zip"),
        ],
        "nbgrader export": ["nbgrader", "export", "--out", str(tmp_path / "nb")],
    }
    for name, args in commands.items():
        result = CliRunner().invoke(cli, ["--course", str(course.root), *args])
        message = result.output.strip()
        assert result.exit_code == 2, (name, message)
        assert len(message.splitlines()) == 1 and "Traceback" not in message, (name, message)
        shown = message.replace("\\", "/").replace(course.root.as_posix() + "/", "")
        assert shown.startswith(f"dlgrade: error: {where}"), (name, message)
    assert not out.exists() or not any(out.iterdir())
    assert not (tmp_path / "ag.zip").exists()
    assert not (tmp_path / "nb" / "source").exists()


@pytest.mark.parametrize(("marker", "typo"), SOLUTION_TYPOS)
def test_a_solution_marker_typo_is_refused(
    course_copy: Course, tmp_path: Path, marker: str, typo: str
) -> None:
    line = _replace_first(course_copy.solution("softmax"), marker, typo)
    _refused_everywhere(course_copy, f"solutions/softmax.py:{line}:", tmp_path)


@pytest.mark.parametrize(("marker", "typo"), HIDDEN_TYPOS)
def test_a_hidden_test_marker_typo_is_refused(
    course_copy: Course, tmp_path: Path, marker: str, typo: str
) -> None:
    line = _replace_first(course_copy.solution_tests("conv"), marker, typo)
    _refused_everywhere(course_copy, f"solutions/test_conv.py:{line}:", tmp_path)


def test_a_marker_after_code_on_the_same_line_is_refused(
    course_copy: Course, tmp_path: Path
) -> None:
    path = course_copy.solution("softmax")
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip() == END_SOLUTION)
    lines[number - 1] += "  " + END_SOLUTION
    del lines[number]
    path.write_text("\n".join(lines) + "\n")
    _refused_everywhere(course_copy, f"solutions/softmax.py:{number}:", tmp_path)


def test_a_file_without_markers_is_refused(course_copy: Course, tmp_path: Path) -> None:
    path = course_copy.solution("softmax")
    text = path.read_text()
    path.write_text(
        "\n".join(
            line for line in text.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
        )
        + "\n"
    )
    _refused_everywhere(course_copy, "solutions/softmax.py:1: no '### BEGIN SOLUTION'", tmp_path)


def test_a_solution_outside_a_function_is_refused(course_copy: Course, tmp_path: Path) -> None:
    path = course_copy.solution("softmax")
    text = path.read_text()
    number = len(text.splitlines()) + 2
    path.write_text(text + f"\n{BEGIN_SOLUTION}\nTABLE = [1, 2, 3]\n{END_SOLUTION}\n")
    _refused_everywhere(course_copy, f"solutions/softmax.py:{number}: ", tmp_path)


def test_a_reading_exercise_needs_no_marker_and_is_named_in_course_yaml(
    course_copy: Course,
) -> None:
    path = course_copy.solution("softmax")
    path.write_text(
        "\n".join(
            line
            for line in path.read_text().splitlines()
            if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
        )
        + "\n"
    )
    yaml_path = course_copy.root / "course.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("reading: []", "reading: [softmax]"))
    reading = Course.load(course_copy.root)
    assert reading.reading == ("softmax",)
    generate_course(reading)
    assert check_course(reading) == []
    assert ast.dump(ast.parse(reading.stub("softmax").read_text())) == ast.dump(
        ast.parse(path.read_text())
    )
    # and a reading exercise that has a region after all is refused
    yaml_path.write_text(
        yaml_path.read_text().replace("reading: [softmax]", "reading: [softmax, conv]")
    )
    with pytest.raises(FileLineError, match=r"solutions/conv.py:\d+: course.yaml lists"):
        check_course(Course.load(course_copy.root))


def test_course_yaml_reading_must_name_listed_exercises(course_copy: Course) -> None:
    yaml_path = course_copy.root / "course.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("reading: []", "reading: [nope]"))
    with pytest.raises(FileLineError, match=r"course.yaml:\d+: 'reading' names 'nope'"):
        Course.load(course_copy.root)


def test_a_copied_solution_statement_in_a_public_file_is_refused(course_copy: Course) -> None:
    """The scan compares syntax trees: another layout, other spacing and a comment hide nothing."""
    graders = course_copy.solution_tests("softmax")
    graders.write_text(
        graders.read_text() + "\n\ndef helper(z, axis):\n"
        "    shifted = (z -\n"
        "               np.max(z, axis = axis,  # the max\n"
        "                      keepdims = True))\n"
        "    return shifted\n"
    )
    solution_line = next(
        i
        for i, line in enumerate(course_copy.solution("softmax").read_text().splitlines(), 1)
        if line.strip().startswith("shifted = z - np.max(z, axis=axis, keepdims=True)")
    )
    result = CliRunner().invoke(cli, ["--course", str(course_copy.root), "generate"])
    assert result.exit_code == 2
    message = result.output.replace("\\", "/")
    assert "exercises/test_softmax.py:" in message
    assert f"solutions/softmax.py:{solution_line} (" in message


@pytest.mark.parametrize(
    "stub_lines",
    [
        ("# YOUR CODE HERE", "pass"),  # a stub that returns None instead of raising
        ("raise NotImplementedError", "return None"),  # something after the raise
    ],
)
def test_the_stub_proof_does_not_trust_the_text_transform(
    course_copy: Course, monkeypatch: pytest.MonkeyPatch, stub_lines: tuple[str, ...]
) -> None:
    """A bug in the text transform that writes stubs is caught by the proof, which derives each
    stub from the solution's syntax tree on its own."""
    monkeypatch.setattr(markers, "STUB_LINES", stub_lines)
    monkeypatch.chdir(course_copy.root)
    with pytest.raises(FileLineError) as info:
        check_course(course_copy)
    message = str(info.value).replace("\\", "/")
    assert message.startswith("exercises/perceptron.py:") and "`predict` is not" in message


def test_a_stub_with_a_solution_body_names_the_function() -> None:
    solution = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return x * 2\n"
        "    ### END SOLUTION\n"
        "\n\n"
        "def g(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    ### END SOLUTION\n"
    )
    regions = find_regions(solution.splitlines(), BEGIN_SOLUTION, END_SOLUTION, Path("s.py"))
    good = 'def f(x):\n    """Doc."""\n    raise NotImplementedError\n\n\ndef g(x):\n    raise NotImplementedError\n'
    check_stub(solution, Path("s.py"), regions, good, Path("stub.py"))
    bad = good.replace("def g(x):\n    raise NotImplementedError", "def g(x):\n    return x + 1")
    with pytest.raises(FileLineError, match=r"stub.py:6: `g` is not"):
        check_stub(solution, Path("s.py"), regions, bad, Path("stub.py"))
    extra = good + "\n\ndef h():\n    pass\n"
    with pytest.raises(FileLineError, match=r"stub.py:10: this is not"):
        check_stub(solution, Path("s.py"), regions, extra, Path("stub.py"))


def test_a_hand_edited_stub_is_not_released(course_copy: Course, tmp_path: Path) -> None:
    stub = course_copy.stub("softmax")
    stub.write_text(stub.read_text().replace("raise NotImplementedError", "return z", 1))
    assignment = _assignment(course_copy, ["softmax"])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--course", str(course_copy.root), "release", str(assignment), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "exercises/softmax.py:" in result.output.replace("\\", "/")
    assert "run dlgrade generate" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_the_scan_has_every_exercises_statements(course: Course) -> None:
    secrets = course_secrets(course)
    by_file = {p.name for p in (s.path for s in secrets.statements.values())}
    assert by_file == {f"{e}.py" for e in course.exercises if e not in course.reading}
    assert len(secrets) > 100
    for name in course.exercises:  # and none of them is in what generate wrote
        for path in (course.stub(name), course.public_tests(name)):
            assert leaked(path.read_text(), path, secrets) == []


def _exercises() -> list[str]:
    course = Course.load(REPO)
    return [e for e in course.exercises if e not in course.reading]


@pytest.mark.parametrize("exercise", _exercises())
def test_every_stub_scores_zero_with_hidden_tests(course: Course, exercise: str) -> None:
    """Every exercise of course.yaml (those added later included): its stub scores 0 of a
    positive maximum with all graders, each test an error saying the function is not written."""
    result = check(course, exercise, hidden=True, seed=11)
    assert result.max_score > 0 and result.score == 0
    assert any(t.hidden for t in result.tests)
    for test in result.tests:
        assert test.status == "error" and "NotImplementedError" in test.message, test
