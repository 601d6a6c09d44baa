"""The grading engine on real exercises: full marks, stubs, broken submissions, seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from edit_source import write_variant

from grader.course import Course
from grader.engine.runner import check, collect_graders, run_graders
from grader.errors import GraderError

EXERCISES = Course.load(Path(__file__).resolve().parents[1]).exercises  # all of course.yaml


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solution_scores_full_marks_hidden_included(
    course: Course, exercise: str
) -> None:
    result = check(course, exercise, solution=True, seed=11)
    assert result.full_marks, [(t.name, t.message) for t in result.tests if t.status != "passed"]
    assert result.score == result.max_score > 0
    assert any(t.hidden for t in result.tests) and any(not t.hidden for t in result.tests)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_course_exercise_is_graded_in_full_for_the_reference(
    course: Course, exercise: str
) -> None:
    """Another seed: the reference must not pass by luck of one draw."""
    assert check(course, exercise, solution=True, seed=987654).full_marks


@pytest.mark.parametrize("exercise", ["perceptron", "softmax"])
@pytest.mark.parametrize("hidden", [False, True])
def test_stub_scores_exactly_zero_with_a_message_per_test(
    course: Course, exercise: str, hidden: bool
) -> None:
    result = check(course, exercise, hidden=hidden, seed=3)
    assert result.score == 0 and result.max_score > 0
    for test in result.tests:
        assert test.status == "error"
        assert "NotImplementedError" in test.message and "not written yet" in test.message


def test_hidden_tests_are_marked_and_only_in_the_full_run(course: Course) -> None:
    public = check(course, "softmax", seed=1)
    full = check(course, "softmax", hidden=True, seed=1)
    assert not any(t.hidden for t in public.tests)
    public_names = {t.name for t in public.tests}
    assert {t.name for t in full.tests if not t.hidden} == public_names
    assert {t.name for t in full.tests if t.hidden} and not (
        {t.name for t in full.tests if t.hidden} & public_names
    )


def test_syntax_error_scores_zero_with_the_line(course: Course, tmp_path: Path) -> None:
    path = tmp_path / "softmax.py"
    path.write_text(
        course.solution("softmax").read_text().replace("def sigmoid(z):", "def sigmoid(z)", 1)
    )
    result = check(course, "softmax", path=path, hidden=True)
    assert result.score == 0
    line = next(
        i for i, text in enumerate(path.read_text().splitlines(), 1) if "def sigmoid(z)" in text
    )
    for test in result.tests:
        assert test.status == "error"
        assert f"syntax error at line {line}" in test.message


def test_missing_function_costs_only_its_tests(course: Course, tmp_path: Path) -> None:
    path = write_variant(course.solution("softmax"), tmp_path / "softmax.py", log_softmax="")
    result = check(course, "softmax", path=path)
    by_name = {t.name: t for t in result.tests}
    assert by_name["test_log_softmax_matches_torch"].status == "error"
    assert "has no function `log_softmax`" in by_name["test_log_softmax_matches_torch"].message
    assert by_name["test_softmax_matches_torch"].status == "passed"
    assert 0 < result.score < result.max_score


def test_wrong_shape_is_named(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("softmax"),
        tmp_path / "softmax.py",
        softmax="""
        def softmax(z, axis=-1):
            e = np.exp(z - z.max(axis=axis, keepdims=True))
            return (e / e.sum(axis=axis, keepdims=True)).ravel()
        """,
    )
    result = check(course, "softmax", path=path, seed=5)
    test = next(t for t in result.tests if t.name == "test_softmax_matches_torch")
    assert test.status == "failed"
    assert "has shape (" in test.message and "expected (" in test.message
    assert test.message.startswith("softmax(z=float64 array (")


def test_nan_is_named(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("softmax"),
        tmp_path / "softmax.py",
        sigmoid="""
        def sigmoid(z):
            return np.exp(z) / (np.exp(z) + 1.0)
        """,
    )
    result = check(course, "softmax", path=path, hidden=True, seed=5)
    by_name = {t.name: t for t in result.tests}
    assert by_name["test_sigmoid_matches_torch"].status == "passed"
    extreme = by_name["test_sigmoid_extreme_values"]
    assert extreme.status == "failed"
    assert "non-finite" in extreme.message and "nan" in extreme.message
    stable = by_name["test_large_logits_are_stable"]  # the public test of large inputs, too
    assert stable.status == "failed" and "non-finite" in stable.message
    assert result.score == result.max_score - extreme.max_score - stable.max_score


def test_in_place_modification_is_caught(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("softmax"),
        tmp_path / "softmax.py",
        softmax="""
        def softmax(z, axis=-1):
            z -= np.max(z, axis=axis, keepdims=True)
            e = np.exp(z)
            return e / np.sum(e, axis=axis, keepdims=True)
        """,
    )
    result = check(course, "softmax", path=path, hidden=True, seed=5)
    failed = {t.name: t.message for t in result.tests if t.status != "passed"}
    assert list(failed) == ["test_inputs_left_unmodified"]
    assert "softmax changed its input z in place" in failed["test_inputs_left_unmodified"]


def test_bool_predictions_are_refused_with_advice(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("perceptron"),
        tmp_path / "perceptron.py",
        predict="""
        def predict(w, b, X):
            return X @ w + b > 0
        """,
    )
    result = check(course, "perceptron", path=path, seed=2)
    test = next(t for t in result.tests if t.name == "test_predict_matches_torch")
    assert (
        test.status == "failed" and "dtype bool" in test.message and ".astype(int)" in test.message
    )


def test_forbidden_import_scores_zero(course: Course, tmp_path: Path) -> None:
    path = tmp_path / "softmax.py"
    path.write_text("import torch\n" + course.solution("softmax").read_text())
    result = check(course, "softmax", path=path, hidden=True)
    assert result.score == 0
    assert all("importing torch is not allowed" in t.message for t in result.tests)


def test_exception_in_submission_is_located(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("perceptron"),
        tmp_path / "perceptron.py",
        update="""
        def update(w, b, x, y, lr=1.0):
            return w + undefined_name
        """,
    )
    result = check(course, "perceptron", path=path, seed=2)
    test = next(t for t in result.tests if t.name == "test_update_on_a_mistake")
    assert test.status == "error"
    assert "update raised NameError" in test.message and "line" in test.message


def make_graders(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "test_toy.py"
    path.write_text("import pytest\nimport numpy as np\n\n" + body)
    return path


def test_same_seed_same_inputs_different_seed_different_inputs(tmp_path: Path) -> None:
    graders = make_graders(
        tmp_path,
        "@pytest.mark.points(1)\ndef test_inputs(student, rng):\n    assert False, f'draw={rng.random():.17f}'\n",
    )
    submission = tmp_path / "toy.py"
    submission.write_text("def f():\n    return 1\n")

    def draw(seed: int) -> str:
        return run_graders(graders, submission, exercise="toy", seed=seed).tests[0].message

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)
    assert run_graders(graders, submission, exercise="other", seed=1).tests[0].message != draw(1)


def test_time_limit_gives_a_timeout(tmp_path: Path) -> None:
    graders = make_graders(
        tmp_path,
        "@pytest.mark.points(1)\n@pytest.mark.time_limit(0.5)\ndef test_spin(student):\n    student.spin()\n\n"
        "@pytest.mark.points(2)\ndef test_after(student):\n    assert student.one() == 1\n",
    )
    submission = tmp_path / "toy.py"
    submission.write_text(
        "def spin():\n    while True:\n        pass\n\ndef one():\n    return 1\n"
    )
    result = run_graders(graders, submission, exercise="toy", seed=0)
    assert [t.status for t in result.tests] == ["timeout", "passed"]
    assert "did not finish within 0.5 s" in result.tests[0].message
    assert result.score == 2


def test_grader_without_points_is_a_grader_error(tmp_path: Path) -> None:
    graders = make_graders(tmp_path, "def test_unmarked(student):\n    pass\n")
    submission = tmp_path / "toy.py"
    submission.write_text("")
    with pytest.raises(GraderError, match="has no @pytest.mark.points"):
        run_graders(graders, submission, exercise="toy", seed=0)


def test_grader_that_does_not_import_is_a_grader_error(tmp_path: Path) -> None:
    graders = make_graders(tmp_path, "import no_such_module_here\n")
    submission = tmp_path / "toy.py"
    submission.write_text("")
    with pytest.raises(GraderError):
        run_graders(graders, submission, exercise="toy", seed=0)


def test_opaque_results_stay_with_the_submission(tmp_path: Path) -> None:
    graders = make_graders(
        tmp_path,
        "from grader.runtime.plain import Opaque\n\n"
        "@pytest.mark.points(1)\ndef test_handles(student):\n"
        "    out, cache = student.forward(np.ones(3))\n"
        "    assert isinstance(cache, Opaque) and cache.type_name == 'Cache'\n"
        "    assert student.backward(cache) == 3.0\n\n"
        "@pytest.mark.points(1)\ndef test_lying_array(student):\n"
        "    from grader.testing import expect_array\n"
        "    expect_array(student.liar(), np.zeros(2))\n",
    )
    submission = tmp_path / "toy.py"
    submission.write_text(
        "import numpy as np\n"
        "class Cache:\n    def __init__(self, x):\n        self.x = x\n"
        "def forward(x):\n    return x * 2, Cache(x)\n"
        "def backward(cache):\n    return float(cache.x.sum())\n"
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
        "def liar():\n    return np.ones(2).view(Liar)\n"
    )
    result = run_graders(graders, submission, exercise="toy", seed=0)
    assert [t.status for t in result.tests] == ["passed", "failed"]
    assert (
        "should be a numpy array" in result.tests[1].message
        and "Liar object" in result.tests[1].message
    )


def test_collect_graders_lists_points_without_running(course: Course) -> None:
    tests = collect_graders(course.solution_tests("perceptron"), "perceptron")
    assert sum(t.max_score for t in tests) == 25
    assert all(t.status == "error" and t.message == "not run" for t in tests)
    assert any(t.hidden for t in tests)


def test_collecting_graders_does_not_import_torch(course: Course) -> None:
    """`dlgrade list` and a stub's check stay fast: torch is imported only when an oracle runs."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from grader.course import Course\n"
        "from grader.engine.runner import check, collect_graders\n"
        f"course = Course.load(__import__('pathlib').Path({str(course.root)!r}))\n"
        "collect_graders(course.solution_tests('softmax'), 'softmax')\n"
        "check(course, 'softmax', seed=1)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_error_at_import_scores_zero_with_a_message(course: Course, tmp_path: Path) -> None:
    path = tmp_path / "softmax.py"
    path.write_text(course.solution("softmax").read_text() + "\nraise NotImplementedError\n")
    result = check(course, "softmax", path=path)
    assert result.score == 0
    assert all(
        "importing" in t.message and "raised NotImplementedError" in t.message for t in result.tests
    )


def test_a_nan_probability_is_named_as_not_a_number(course: Course, tmp_path: Path) -> None:
    """A softmax that returns nan is told so, not that its probabilities are outside [0, 1]."""
    path = write_variant(
        course.solution("softmax"),
        tmp_path / "softmax.py",
        softmax="""
        def softmax(z, axis=-1):
            e = np.exp(z - np.max(z, axis=axis, keepdims=True))
            out = e / np.sum(e, axis=axis, keepdims=True)
            out[0, 0] = np.nan
            return out
        """,
    )
    result = check(course, "softmax", path=path, seed=5)
    test = next(t for t in result.tests if t.name == "test_softmax_rows_are_distributions")
    assert test.status == "failed"
    assert "non-finite" in test.message and "nan" in test.message
    assert "outside [0, 1]" not in test.message


def test_a_composite_function_says_which_component_to_fix_first(
    course: Course, tmp_path: Path
) -> None:
    """lstm_forward failing because lstm_cell_forward is wrong is sent to lstm_cell_forward."""
    path = write_variant(
        course.solution("lstm"),
        tmp_path / "lstm.py",
        lstm_cell_forward="""
        def lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
            a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
            a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
            i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
            c_next = f * c + i * g
            return o * np.tanh(c_next) * 0.9, c_next
        """,
    )
    result = check(course, "lstm", path=path, seed=5)
    seq = next(t for t in result.tests if t.name == "test_lstm_forward_matches_torch_lstm")
    assert seq.status == "failed"
    assert seq.hint == (
        "lstm_cell_forward fails its own tests, and lstm_forward builds on it: make "
        "lstm_cell_forward right, then come back to lstm_forward"
    )
    cell = next(t for t in result.tests if t.name == "test_lstm_cell_forward_matches_torch")
    assert cell.status == "failed" and "times 9/10" in (cell.hint or "")
