"""Defects found trying the quiz as a student, each with the test that showed it: exam resume
revealing correctness, "question 3 of 2", the "saved" line printed twice, the terminal
interface wrapping at 80 columns, topic keys nobody lists, history without --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from test_quiz import Terminal

from grader.quiz.bank import load
from grader.quiz.sampling import draw
from grader.quiz.store import Store

DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
LONG = (
    "Which of these statements about a very long question stem that goes on and on past the "
    "eightieth column of a wide terminal is right?"
)


def _bank(tmp_path: Path) -> Path:
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(
        "title: The first topic\nquestions:\n"
        + "".join(
            f"  - {{id: a{i}, text: 'alpha {i}?', choices: [one, two, six], answer: 0, explanation: e}}\n"
            for i in range(3)
        )
        + "  - {id: a-gen, generator: conv_output_size}\n"
    )
    (folder / "beta.yaml").write_text(
        "topic: beta\ntitle: The second topic\nquestions:\n"
        f"  - {{id: b0, text: {json.dumps(LONG)}, choices: [one, two, six], answer: 0, explanation: e}}\n"
    )
    return folder


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "DLGRADE_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "100"}


def _run(args: list[str], home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DLGRADE, *args], input=stdin, capture_output=True, text=True, env=_env(home), timeout=60
    )


def test_exam_resume_does_not_reveal_correctness(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    first = _run(
        ["quiz", "exam", "--bank", str(bank), "--topic", "alpha", "--n", "3", "--seed", "1"],
        tmp_path,
        "a\n",  # question 1 answered, then the input ends: the exam is unfinished
    )
    assert first.returncode == 1
    resumed = _run(["quiz", "resume", "--bank", str(bank)], tmp_path, "a\n")
    before_review = (resumed.stdout + resumed.stderr).split("exam quiz:")[0]
    assert "resuming" in before_review
    assert "correct" not in before_review, before_review


def test_practice_resume_may_say_the_score_so_far(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    _run(["quiz", "practice", "--bank", str(bank), "--n", "3", "--seed", "1"], tmp_path, "a\n")
    resumed = _run(["quiz", "resume", "--bank", str(bank)], tmp_path, "a\n")
    assert "correct so far" in resumed.stdout


def test_resume_never_shows_a_question_beyond_the_last(tmp_path: Path) -> None:
    """The quiz died with its last question open: resuming closes it, and there is nothing left."""
    bank = load([_bank(tmp_path)])
    store = Store(tmp_path / "quiz.sqlite")
    items = draw(bank, n=2, seed=3, topics=["alpha"])
    store.begin(items, mode="exam", seed=3, settings={"seconds_per_question": 60})
    items[0].choice, items[0].status = 0, "answered"
    store.shown(0, items[0])
    store.closed(0, items[0])
    store.shown(1, items[1])  # ... and the process is killed here
    store.close()
    resumed = _run(["quiz", "resume", "--bank", str(tmp_path / "bank")], tmp_path)
    out = resumed.stdout + resumed.stderr
    assert "question 3 of 2" not in out
    assert "no question left" in out and "exam quiz: " in out
    assert resumed.returncode == 0


def test_a_piped_quiz_says_once_that_it_is_saved(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    out = _run(
        ["quiz", "practice", "--bank", str(bank), "--n", "3", "--seed", "1"], tmp_path, "a\n"
    )
    assert out.returncode == 1
    assert (out.stdout + out.stderr).count("the quiz is saved") == 1, out.stdout


def test_the_terminal_interface_wraps_at_the_terminal_width(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    term = Terminal(
        [*DLGRADE, "quiz", "practice", "--bank", str(bank), "--topic", "beta", "--n", "1"],
        _env(tmp_path),
        cols=140,
    )
    screen = term.wait_for("Question 1 of 1")
    assert any(LONG in line for line in screen.splitlines()), screen  # one line of 130 columns
    term.child.sendcontrol("c")
    term.rest()


def test_topics_lists_keys_titles_and_counts(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    out = _run(["quiz", "topics", "--bank", str(bank)], tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line for line in out.stdout.splitlines() if line[:1].isalpha()}
    assert "The first topic" in rows["alpha"] and "The second topic" in rows["beta"]
    assert rows["alpha"].split()[-3:] == ["4", "3", "1"]  # questions, static, parametric
    as_json = json.loads(_run(["quiz", "topics", "--bank", str(bank), "--json"], tmp_path).stdout)
    assert as_json == [
        {
            "topic": "alpha",
            "title": "The first topic",
            "questions": 4,
            "static": 3,
            "parametric": 1,
        },
        {
            "topic": "beta",
            "title": "The second topic",
            "questions": 1,
            "static": 1,
            "parametric": 0,
        },
    ]


def test_an_unknown_topic_names_the_valid_keys(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    out = _run(["quiz", "practice", "--bank", str(bank), "--topic", "convolutions"], tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no topic 'convolutions'" in out.stderr and "alpha, beta" in out.stderr
    assert "dlgrade quiz topics" in out.stderr


def test_history_json(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    _run(
        ["quiz", "practice", "--bank", str(bank), "--topic", "alpha", "--n", "2", "--seed", "1"],
        tmp_path,
        "a\nb\n",
    )
    out = _run(["quiz", "history", "--json", "--bank", str(bank)], tmp_path)
    assert out.returncode == 0, out.stderr
    history = json.loads(out.stdout)
    (attempt,) = history["attempts"]
    assert attempt["mode"] == "practice" and attempt["total"] == 2 and attempt["finished"]
    assert 0 <= attempt["score"] <= 2
    (topic,) = history["topics"]
    assert topic["topic"] == "alpha" and topic["title"] == "The first topic"
    assert topic["seen"] == 2 and topic["correct"] == attempt["score"]
    assert history["weakest"] == ([] if topic["correct"] == 2 else ["alpha"])
