"""Generation of exercises/ from solutions/: stubs, public tests, drift detection, marker errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.course import Course
from grader.errors import FileLineError
from grader.generate import check_course, generate_course
from grader.generate.markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    ClearHiddenTests,
    ClearSolutions,
)


def run(course: Course, *args: str):
    return CliRunner().invoke(cli, ["--course", str(course.root), *args])


def test_generate_check_passes_on_the_repository(course: Course) -> None:
    assert check_course(course) == []
    result = run(course, "generate", "--check")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_generate_check_fails_on_a_drifted_stub(course_copy: Course) -> None:
    stub = course_copy.stub("softmax")
    stub.write_text(stub.read_text() + "\n# edited by hand\n")
    result = run(course_copy, "generate", "--check")
    assert result.exit_code == 1
    assert "exercises/softmax.py: differs" in result.output.replace("\\", "/")


def test_generate_check_reports_missing_and_extra_files(course_copy: Course) -> None:
    course_copy.public_tests("perceptron").unlink()
    (course_copy.exercises_dir / "stray.py").write_text("x = 1\n")
    drift = {(d.path.name, d.reason) for d in check_course(course_copy)}
    assert drift == {("test_perceptron.py", "missing"), ("stray.py", "not generated")}


def test_generate_check_fails_when_a_solution_changes(course_copy: Course) -> None:
    source = course_copy.solution_tests("softmax")
    source.write_text(source.read_text().replace("equals torch.softmax", "matches torch.softmax"))
    assert [(d.path.name, d.reason) for d in check_course(course_copy)] == [
        ("test_softmax.py", "differs")
    ]
    generate_course(course_copy)
    assert check_course(course_copy) == []


def test_stub_keeps_signatures_and_docstrings_and_drops_solutions(course: Course) -> None:
    solution = ast.parse(course.solution("softmax").read_text())
    stub_text = course.stub("softmax").read_text()
    stub = ast.parse(stub_text)
    sol_funcs = {f.name: f for f in solution.body if isinstance(f, ast.FunctionDef)}
    stub_funcs = {f.name: f for f in stub.body if isinstance(f, ast.FunctionDef)}
    assert sol_funcs.keys() == stub_funcs.keys()
    for name, fn in stub_funcs.items():
        assert ast.dump(fn.args) == ast.dump(sol_funcs[name].args)
        assert ast.get_docstring(fn) == ast.get_docstring(sol_funcs[name])
        assert isinstance(fn.body[-1], ast.Raise)  # the body ends in raise NotImplementedError
    assert "BEGIN SOLUTION" not in stub_text
    assert "np.max(z, axis=axis, keepdims=True)" not in stub_text


def test_public_tests_have_no_hidden_tests(course: Course) -> None:
    for name in course.exercises:
        graders = course.solution_tests(name).read_text()
        public = course.public_tests(name).read_text()
        hidden = graders.split(BEGIN_HIDDEN)[1].split("### END HIDDEN TESTS")[0]
        hidden_tests = [
            f.name
            for f in ast.parse("if 1:\n" + _indent(hidden)).body[0].body
            if isinstance(f, ast.FunctionDef)
        ]
        assert hidden_tests, name
        for test in hidden_tests:
            assert f"def {test}(" not in public
        assert "HIDDEN TESTS" not in public


def _indent(text: str) -> str:
    body = "\n".join("    " + line for line in text.splitlines() if "HIDDEN TESTS" not in line)
    return body + "\n    pass\n"


def test_clear_solutions_keeps_the_indentation() -> None:
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    if x:\n"
        "        ### BEGIN SOLUTION\n"
        "        return 1\n"
        "        ### END SOLUTION\n"
        "    return 0\n"
    )
    out = ClearSolutions()(source, Path("s.py"))
    assert out == (
        'def f(x):\n    """Doc."""\n    if x:\n        # YOUR CODE HERE\n        raise NotImplementedError\n    return 0\n'
    )


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", 2, "no '### END SOLUTION'"),
        (
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
            3,
            "nested",
        ),
        ("def f():\n    return 1\n    ### END SOLUTION\n", 3, "without a"),
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", 1, "outside a function"),
        (
            "def f():\n    return 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION\n",
            3,
            "outside a function",
        ),
    ],
)
def test_marker_errors_name_file_and_line(source: str, line: int, words: str) -> None:
    with pytest.raises(FileLineError) as info:
        ClearSolutions()(source, Path("solutions/bad.py"))
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"solutions/bad.py:{line}:")


def test_hidden_markers_unbalanced() -> None:
    with pytest.raises(FileLineError, match=r"test_bad.py:4: no '### END HIDDEN TESTS'"):
        ClearHiddenTests()(
            "import x\n\n\n### BEGIN HIDDEN TESTS\ndef test_a():\n    pass\n", Path("test_bad.py")
        )


def test_marker_error_on_the_command_line_is_one_line_exit_2(course_copy: Course) -> None:
    path = course_copy.solution("softmax")
    lines = path.read_text().splitlines()
    first_end = next(i for i, line in enumerate(lines) if "### END SOLUTION" in line)
    del lines[first_end]
    path.write_text("\n".join(lines) + "\n")
    result = run(course_copy, "generate")
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert "solutions/softmax.py:" in message.replace("\\", "/")
    assert "Traceback" not in message


def test_solution_markers_in_a_grader_file_are_refused(course_copy: Course) -> None:
    path = course_copy.solution_tests("softmax")
    path.write_text(path.read_text() + f"\ndef helper():\n    {BEGIN_SOLUTION}\n    pass\n")
    result = run(course_copy, "generate")
    assert result.exit_code == 2
    assert "does not belong in this file" in result.output


def test_a_reference_only_hidden_tests_use_stays_hidden(course_copy: Course) -> None:
    """An @oracle (a working implementation in torch) or a helper that only hidden tests call
    would show students a reference, or the hidden cases, for nothing: generate refuses it."""
    path = course_copy.solution_tests("perceptron")
    text = path.read_text()
    begin = text.index(BEGIN_HIDDEN)
    helper = "@oracle\ndef secret_ref(w, b, X):\n    return (X @ w + b > 0).long()\n\n\n"
    use = "\n\ndef test_uses_secret_ref(student):\n    secret_ref(1, 2, 3)\n"
    head, hidden = text[:begin], text[begin:]
    first_test = hidden.index("@pytest.mark.points")
    path.write_text(
        head + helper + hidden[:first_test] + use.lstrip("\n") + "\n\n" + hidden[first_test:]
    )
    result = run(course_copy, "generate")
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert "the @oracle `secret_ref` is used only by hidden tests" in message
    assert "solutions/test_perceptron.py:" in message.replace("\\", "/")
    # inside the hidden region, where it belongs, it is fine
    path.write_text(
        head + hidden[:first_test] + helper + use.lstrip("\n") + "\n\n" + hidden[first_test:]
    )
    assert run(course_copy, "generate").exit_code == 0, run(course_copy, "generate").output


def test_no_public_test_file_keeps_what_only_hidden_tests_use(course: Course) -> None:
    for name in course.exercises:
        public = ast.parse(course.public_tests(name).read_text())
        names = {n.id for n in ast.walk(public) if isinstance(n, ast.Name)}
        for stmt in public.body:
            if isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("test"):
                fixture = any("fixture" in ast.unparse(d) for d in stmt.decorator_list)
                assert fixture or stmt.name in names, (name, stmt.name)
