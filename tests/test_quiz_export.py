"""Exports to Moodle XML and GIFT parse back intact; item analysis matches a hand-computed class."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.quiz.bank import Rendered, load
from grader.quiz.export import _math, gift_text, items, question_html, read_gift, to_html
from grader.quiz.session import Item, Session
from grader.quiz.stats import item_analysis
from grader.quiz.store import Store

BANKS = REPO / "quizzes"


def _export(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"bank.{fmt}"
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "quiz", "export", "--format", fmt, "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out


def test_moodle_xml_parses_back_with_every_question_and_answer(tmp_path: Path) -> None:
    path = _export(tmp_path, "moodle-xml", "--variants", "3")
    root = ET.parse(path).getroot()
    questions = {q.find("name/text").text: q for q in root.findall("question[@type='multichoice']")}
    categories = [q.find("category/text").text for q in root.findall("question[@type='category']")]
    bank = load([BANKS])
    expected = items(bank, variants=3)
    assert (
        len(questions)
        == len(expected)
        == len(bank.questions) + 2 * sum(1 for q in bank.questions.values() if q.generator)
    )
    for t in bank.topics():  # a topic's category, or (generators only) its sub-categories
        assert any(c.startswith(f"$course$/top/dlgrade/{t}") for c in categories), t
    for e in expected:
        q = questions[e.name]
        assert q.find("questiontext/text").text == question_html(e)
        assert q.find("generalfeedback/text").text == to_html(e.rendered.explanation)
        answers = q.findall("answer")
        assert [a.find("text").text for a in answers] == [to_html(c) for c in e.rendered.choices]
        if "`" not in e.rendered.text and e.rendered.figure is None:  # plain prose: as before
            assert html.unescape(q.find("questiontext/text").text) == _math(e.rendered.text)
        assert [a.get("fraction") for a in answers].count("100") == 1
        assert answers[e.rendered.answer].get("fraction") == "100"
        assert q.find("single").text == "true"
        assert q.find("shuffleanswers").text == ("false" if e.fixed_order else "true")
    variants = [n for n in questions if n.startswith("conv-output-size-v")]
    assert sorted(variants) == ["conv-output-size-v1", "conv-output-size-v2", "conv-output-size-v3"]


def test_gift_round_trip_keeps_every_question_and_its_answer(tmp_path: Path) -> None:
    path = _export(tmp_path, "gift", "--variants", "2")
    back = read_gift(path.read_text())
    expected = items(load([BANKS]), variants=2)
    assert len(back) == len(expected)
    for (category, name, r), e in zip(back, expected, strict=True):
        assert (category, name) == (e.category, e.name)
        assert r.explanation == _math(e.rendered.explanation)
        assert r.text == gift_text(e, "bank-figures")
        assert (
            r.choices == tuple(_math(c) for c in e.rendered.choices)
            and r.answer == e.rendered.answer
        )


def test_gift_escapes_its_special_characters(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "questions:\n  - id: tricky\n    text: 'a = b: {x} ~y #z \\ w'\n"
        "    choices: ['=1', '~2', '{3}']\n    answer: 2\n    explanation: 'line one\n\n      line two: #'\n"
    )
    from grader.quiz.export import gift

    exported = items(load([tmp_path]))
    [(_, name, r)] = read_gift(gift(exported))
    assert name == "tricky" and r.text == "a = b: {x} ~y #z \\ w"
    assert r.choices == ("=1", "~2", "{3}") and r.answer == 2
    assert r.explanation == "line one\nline two: #"


# -- item analysis ------------------------------------------------------------------------------------
class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _attempt(store: Store, answers: dict[str, int | None]) -> None:
    """One attempt in which the letter ``answers[qid]`` (None: skipped) is saved for each question;
    choices are shown in bank order, the right one first."""
    its = [
        Item(q, "t", 0, (0, 1, 2, 3), Rendered(q, ("right", "w1", "w2", "w3"), 0, "e"))
        for q in answers
    ]
    store.begin(its, mode="exam", seed=0, settings={})
    session = Session(its, mode="exam", clock=Clock(), recorder=store)
    for letter in answers.values():
        session.show()
        session.skip() if letter is None else session.save(letter)


def test_item_analysis_matches_a_hand_computed_class(tmp_path: Path) -> None:
    db = tmp_path / "class.sqlite"
    store = Store(db)
    _attempt(store, {"q1": 0, "q2": 0, "q3": 2, "q4": 1})
    _attempt(store, {"q1": 0, "q2": 1, "q3": 0, "q4": 1})
    _attempt(store, {"q1": 1, "q2": 3, "q3": None, "q4": 0})
    _attempt(store, {"q1": 0, "q2": 0, "q3": 0, "q4": 2})
    store.close()
    stats = {s.qid: s for s in item_analysis([db])}
    # by hand: q1 right in attempts 1, 2, 4; the rest-scores (share of the other three right)
    # are 1/3, 1/3, 1/3, 2/3, so r_pb = (1/12) / sqrt(0.75 * 1/12) = 1/3
    assert stats["q1"].difficulty == 0.75
    assert stats["q1"].discrimination == pytest.approx(1 / 3)
    assert stats["q1"].choices == {0: 3, 1: 1}
    # q4 is right only in the weakest attempt: r_pb = (-7/12) / sqrt(0.75 * 76/144) = -0.92717
    assert stats["q4"].difficulty == 0.25
    assert stats["q4"].discrimination == pytest.approx(-0.92717, abs=1e-5)
    assert "stronger students miss it more" in stats["q4"].flags
    assert stats["q3"].unanswered == 1 and stats["q3"].choices == {0: 2, 2: 1}


def test_flags_for_questions_everyone_or_nobody_gets_right(tmp_path: Path) -> None:
    db = tmp_path / "class.sqlite"
    store = Store(db)
    for k in range(5):
        _attempt(store, {"easy": 0, "impossible": 1, "fair": k % 2})
    store.close()
    result = CliRunner().invoke(cli, ["quiz", "stats", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    flags = {s["id"]: s["flags"] for s in json.loads(result.output)}
    assert flags == {"easy": ["everyone right"], "fair": [], "impossible": ["nobody right"]}
    table = CliRunner().invoke(cli, ["quiz", "stats", "--db", str(db)])
    assert table.exit_code == 0 and "everyone" in table.output and "impossible" in table.output
    missing = CliRunner().invoke(cli, ["quiz", "stats", "--db", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no such attempts database" in missing.output
