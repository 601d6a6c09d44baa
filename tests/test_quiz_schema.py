"""The bank schema's optional fields (kind, calculator, source, author, figure), code blocks in
question text, and the checks `quiz validate` makes of rendered questions (double signs,
figures); each on a small bank written for the test."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from grader.quiz import figures, generators
from grader.quiz.bank import Rendered, load, sign_slip, validate
from grader.quiz.export import _math
from grader.quiz.figures import FigureSpec, Plot, Series
from grader.quiz.markup import blocks, has_code_block
from grader.quiz.texmath import readable

CODE_ITEM = textwrap.dedent(
    """
    questions:
      - id: code-item
        text: |
          What does this print, for $x$ of shape (2, 3)?

          ```python
          cost_$ = x.sum(dim=0)  # $not math$
          print(cost_$.shape)
          ```
        choices: ["torch.Size([3])", "torch.Size([2])", "torch.Size([])"]
        answer: 0
        explanation: "Summing over `dim_0` removes that axis: $3$ entries remain."
        source: "PyTorch docs, torch.sum"
        author: "A. Student"
    """
)


def _write(tmp_path: Path, text: str, name: str = "bank.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_optional_fields_are_read(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "questions:\n"
        "  - {id: a, text: t, choices: [x, y, z], answer: 0, explanation: e, kind: reasoning,"
        " calculator: true, source: 'He et al. 2016', author: 'B. Student'}\n"
        "  - {id: b, text: t2, choices: [x, y, z], answer: 0, explanation: e}\n",
    )
    bank = load([tmp_path])
    a, b = bank.questions["a"], bank.questions["b"]
    assert (a.kind, a.calculator, a.source, a.author) == (
        "reasoning",
        True,
        "He et al. 2016",
        "B. Student",
    )
    assert (b.kind, b.calculator, b.source, b.author) == (None, False, "", "")
    assert a.render(0).calculator is True and b.render(0).calculator is False
    assert bank.problems == []


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("kind: trivia", "kind must be one of recall, calculation"),
        ("calculator: maybe", "calculator must be true or false"),
        ("source: [a, b]", "source must be text"),
        ("figure: {function: nope}", "unknown figure function 'nope'"),
        ("figure: {function: test_curve, params: {colour: red}}", "takes no parameter 'colour'"),
        ("figure: {function: test_curve, size: 3}", "unknown figure field 'size'"),
        ("figure: [test_curve]", "figure must be a mapping"),
    ],
)
def test_a_bad_optional_field_is_reported_with_file_line_and_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, message: str
) -> None:
    monkeypatch.setitem(figures.FIGURES, "test_curve", _test_curve)
    path = _write(
        tmp_path,
        "# a bank\nquestions:\n  - id: q\n    text: t\n    choices: [x, y, z]\n    answer: 0\n"
        f"    explanation: e\n    {field}\n",
    )
    problems = validate([path])
    assert len(problems) == 1, problems
    assert (problems[0].line, problems[0].qid) == (3, "q") and message in problems[0].message


def _test_curve(rng: random.Random, slope: float = 1.0) -> Plot:
    xs = [float(i) for i in range(10)]
    return Plot("test", series=[Series(xs, [slope * x + rng.random() for x in xs])])


def test_a_figure_is_carried_by_the_rendered_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(figures.FIGURES, "test_curve", _test_curve)
    _write(
        tmp_path,
        "questions:\n  - {id: f, text: t, choices: [x, y, z], answer: 0, explanation: e,"
        " figure: {function: test_curve, params: {slope: 2}, seed: 5}}\n",
    )
    q = load([tmp_path]).questions["f"]
    r = q.render(123)
    assert r.figure == FigureSpec("test_curve", {"slope": 2}, 5)
    assert q.effective_kind == "figure"
    assert figures.plot(r.figure).series[0].y == figures.plot(r.figure).series[0].y  # seeded


def test_a_figure_that_cannot_be_drawn_fails_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(rng: random.Random, n: int = 3) -> Plot:
        return Plot("broken", series=[Series([0.0, 1.0], [1.0])])

    monkeypatch.setitem(figures.FIGURES, "broken", broken)
    path = _write(
        tmp_path,
        "questions:\n  - {id: f, text: t, choices: [x, y, z], answer: 0, explanation: e,"
        " figure: {function: broken}}\n",
    )
    problems = validate([path])
    assert [(p.qid, "unequal or non-finite" in p.message) for p in problems] == [("f", True)]


def test_a_generator_may_render_a_figure_and_ask_for_a_calculator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(figures.FIGURES, "test_curve", _test_curve)

    @generators.generator("test_figure_gen", calculator=True)
    def gen(rng: random.Random) -> dict:
        return {
            "text": "t",
            "choices": ["1", "2", "3"],
            "answer": 0,
            "explanation": "e",
            "figure": {"function": "test_curve", "params": {"slope": rng.choice([1, 2])}},
        }

    try:
        _write(tmp_path, "questions:\n  - {id: g, generator: test_figure_gen}\n")
        q = load([tmp_path]).questions["g"]
        assert q.calculator is True  # from the generator's declaration
        r = q.render(1)
        assert r.calculator and r.figure is not None and r.figure.function == "test_curve"
        assert validate([tmp_path]) == []
        _write(tmp_path, "questions:\n  - {id: g, generator: test_figure_gen, calculator: false}\n")
        assert "needs a calculator" in validate([tmp_path])[0].message
    finally:
        generators.GENERATORS.pop("test_figure_gen")
        generators.INFO.pop("test_figure_gen")


def test_code_blocks_keep_dollars_and_underscores(tmp_path: Path) -> None:
    _write(tmp_path, CODE_ITEM)
    q = load([tmp_path]).questions["code-item"]
    assert q.effective_kind == "code" and has_code_block(q.text)
    shown = readable(q.text)
    assert "cost_$ = x.sum(dim=0)  # $not math$" in shown  # code untouched
    assert "for x of shape" in shown  # prose math converted
    assert readable(q.explanation) == "Summing over `dim_0` removes that axis: 3 entries remain."
    exported = _math(q.text)
    assert "# $not math$" in exported and r"\(x\)" in exported
    parts = blocks(q.text)
    assert [p.language for p in parts] == [None, "python", None]
    assert parts[1].text.splitlines()[0] == "cost_$ = x.sum(dim=0)  # $not math$"


@pytest.mark.parametrize(
    ("text", "slip"),
    [
        ("1.5 − -2 = 3.5", "− -2"),
        ("w + -1·x", "+ -1"),
        ("a - -0.5", "- -0"),
        ("0.9·(-1) and 2 − 3 and x_{t-1} and `a - -1`", None),
    ],
)
def test_double_signs_are_found(text: str, slip: str | None) -> None:
    found = sign_slip(Rendered(text, ("a", "b", "c"), 0, "e"))
    assert (found is None) if slip is None else (found is not None and repr(slip) in found)


def test_a_generator_printing_a_double_sign_fails_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slips(rng: random.Random) -> dict:
        v = rng.randint(-3, 3)
        return {
            "text": f"what is 2 − {v}?",
            "choices": [str(2 - v), str(2 + v + 10), str(v + 20)],
            "answer": 0,
            "explanation": "e",
        }

    monkeypatch.setitem(generators.GENERATORS, "test_slips", slips)
    path = _write(tmp_path, "questions:\n  - {id: s, generator: test_slips}\n")
    problems = validate([path])
    assert len(problems) == 1 and "double sign" in problems[0].message
    assert problems[0].qid == "s" and "seed" in problems[0].message
