"""The quiz engine: session rules under a fake clock, sampling, validation, persistence, the two
interfaces (a pipe, and a real pseudo-terminal), the JSON shape."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO

from grader.errors import UserError
from grader.quiz import generators
from grader.quiz.bank import Rendered, load, validate
from grader.quiz.sampling import draw
from grader.quiz.session import Item, Session, TooLate
from grader.quiz.store import Store, weak_weights

BANKS = REPO / "quizzes"
DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def items(n: int = 3) -> list[Item]:
    return [
        Item(f"q{i}", "t", 0, (2, 0, 1), Rendered(f"question {i}", ("right", "w1", "w2"), 0, "why"))
        for i in range(n)
    ]


# -- session rules ---------------------------------------------------------------------------------
def test_an_answer_saved_just_before_the_deadline_counts() -> None:
    clock = FakeClock()
    s = Session(items(), seconds_per_question=60, clock=clock)
    item = s.show()
    clock.now += 59.999
    fb = s.save(item.answer)  # the letter of "right": order (2, 0, 1) puts it at b
    assert item.answer == 1 and fb.correct and item.status == "answered"
    assert s.position == 1


def test_an_answer_at_or_after_the_deadline_is_refused_and_the_question_closed() -> None:
    clock = FakeClock()
    s = Session(items(), seconds_per_question=60, clock=clock)
    item = s.show()
    clock.now += 60.0
    with pytest.raises(TooLate):
        s.save(item.answer)
    assert item.status == "timed_out" and item.choice is None and not item.correct
    assert s.current is s.items[1]


def test_the_deadline_starts_when_the_question_is_shown() -> None:
    clock = FakeClock()
    s = Session(items(), seconds_per_question=10, clock=clock)
    s.show()
    s.save(0)
    clock.now += 500  # a long pause before the next question is shown costs nothing
    assert s.tick() == []
    item = s.show()
    assert item.deadline == clock.now + 10


def test_no_way_back_to_a_closed_question() -> None:
    clock = FakeClock()
    s = Session(items(), seconds_per_question=60, clock=clock)
    first = s.show()
    s.save(0)
    second = s.show()
    s.save(second.answer)  # the only save possible now is on the second question
    assert first.choice == 0 and first.status == "answered" and not first.correct
    assert s.position == 2 and not hasattr(s, "back")


def test_a_question_times_out_while_idle() -> None:
    clock = FakeClock()
    s = Session(items(2), seconds_per_question=5, clock=clock)
    s.show()
    clock.now += 5
    closed = s.tick()
    assert [fb.item.qid for fb in closed] == ["q0"] and closed[0].timed_out
    assert s.show().qid == "q1"


def test_the_total_limit_closes_everything_left() -> None:
    clock = FakeClock()
    s = Session(items(3), seconds_per_question=60, total_seconds=90, clock=clock)
    s.show()
    clock.now += 50
    s.save(1)
    item = s.show()
    assert item.deadline == 1090.0  # the total limit comes before the question's own 60 s
    clock.now = 1090.0
    assert s.show() is None and s.finished
    assert [it.status for it in s.items] == ["answered", "timed_out", "timed_out"]


def test_skip_and_no_penalty_for_wrong_answers() -> None:
    clock = FakeClock()
    s = Session(items(4), clock=clock)
    s.show()
    s.skip()
    s.show()
    s.save(0)  # wrong
    s.show()
    s.save(1)  # right
    s.show()
    s.save(1)  # right
    assert s.score == 2 and s.total == 4
    assert s.to_json()["questions"][0] == {
        "id": "q0",
        "topic": "t",
        "answered": None,
        "correct": False,
        "timed_out": False,
    }


# -- sampling ---------------------------------------------------------------------------------------
def test_sampling_is_reproducible_and_never_repeats() -> None:
    bank = load([BANKS])
    a = draw(bank, n=10, seed=5)
    b = draw(bank, n=10, seed=5)
    c = draw(bank, n=10, seed=6)
    assert [(i.qid, i.order, i.variant) for i in a] == [(i.qid, i.order, i.variant) for i in b]
    assert [i.qid for i in a] != [i.qid for i in c]
    everything = draw(bank, n=1000, seed=1)
    assert len(everything) == len(bank.questions) == len({i.qid for i in everything})


def test_topics_share_the_quiz_evenly() -> None:
    bank = load([BANKS])
    three = ["perceptron", "losses", "convolution"]
    for seed in range(20):
        got = [i.topic for i in draw(bank, n=6, seed=seed, topics=three)]
        assert sorted(got.count(t) for t in three) == [2, 2, 2]
        spread = [i.topic for i in draw(bank, n=20, seed=seed)]
        assert len(set(spread)) == 20  # twenty questions, one from each topic
    only = draw(bank, n=3, seed=1, topics=["convolution"], difficulty=[1])
    assert {(i.topic, bank.questions[i.qid].difficulty) for i in only} == {("convolution", 1)}


def test_choices_are_shuffled_unless_fixed(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        textwrap.dedent(
            """
            questions:
              - {id: fixed, text: t, choices: [a, b, c, none of these], answer: 3, explanation: e, fixed_order: true}
              - {id: free, text: t, choices: [a, b, c, d], answer: 0, explanation: e}
            """
        )
    )
    bank = load([tmp_path])
    orders = {i.qid: set() for i in draw(bank, n=2, seed=0)}
    for seed in range(30):
        for i in draw(bank, n=2, seed=seed):
            orders[i.qid].add(i.order)
            assert i.choices[i.answer] == i.rendered.choices[i.rendered.answer]
    assert orders["fixed"] == {(0, 1, 2, 3)} and len(orders["free"]) > 5


def test_unknown_topic_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no topic 'quantum'"):
        draw(load([BANKS]), n=3, seed=1, topics=["quantum"])


def test_weak_practice_draws_more_from_missed_questions(tmp_path: Path) -> None:
    bank = load([BANKS])
    store = Store(tmp_path / "q.sqlite")
    s = Session(draw(bank, n=len(bank.questions), seed=1), clock=FakeClock(), recorder=store)
    store.begin(s.items, mode="practice", seed=1, settings={})
    for item in list(s.items):
        s.show()
        s.save(item.answer if item.topic != "losses" else (item.answer + 1) % len(item.choices))
    weights = weak_weights(store, {q.id: q.topic for q in bank.questions.values()})
    three = ["perceptron", "losses", "convolution"]
    picks = [
        i.topic
        for seed in range(30)
        for i in draw(bank, n=3, seed=seed, topics=three, weights=weights)
    ]
    assert picks.count("losses") > 0.6 * len(picks)  # a third of the questions, most of the picks


# -- validation ---------------------------------------------------------------------------------------
def test_the_shipped_banks_are_valid() -> None:
    assert validate([BANKS]) == []
    bank = load([BANKS])
    static = [q for q in bank.questions.values() if q.generator is None]
    assert len(static) >= 240 and len(bank.topics()) >= 20
    assert len({q.generator for q in bank.questions.values() if q.generator}) >= 20
    for topic in bank.topics():  # every topic file holds at least twelve reviewed questions
        if all(q.generator for q in bank.questions.values() if q.topic == topic):
            continue  # or only generators (calculations.yaml), each checked on 500 seeds
        assert sum(1 for q in static if q.topic == topic) >= 12, topic
    for path in sorted(BANKS.glob("*.yaml")):  # and says how it was reviewed
        head = path.read_text().split("questions:")[0]
        assert "# Review:" in head and "# Revised on review:" in head, path.name


GOOD = "{id: ID, text: t, choices: [a, b, c], answer: 0, explanation: e}"


@pytest.mark.parametrize(
    ("text", "line", "qid", "message"),
    [
        ("questions:\n  - id: x\n    text: a: b\n", 3, None, "YAML syntax"),
        (
            "questions:\n  - {id: x, text: t, choices: [a, b, c], answer: 0}\n",
            2,
            "x",
            "missing field 'explanation'",
        ),
        (
            "questions:\n  - {id: x, text: t, choices: [a, b, c], answer: 3, explanation: e}\n",
            2,
            "x",
            "answer 3 is not the index",
        ),
        (
            "questions:\n  - {id: x, text: t, choices: [a, b, a], answer: 0, explanation: e}\n",
            2,
            "x",
            "duplicate or ambiguous",
        ),
        (
            "questions:\n  - {id: x, text: t, choices: ['16', '16.0', '8'], answer: 0, explanation: e}\n",
            2,
            "x",
            "duplicate or ambiguous",
        ),
        (
            "questions:\n  - {id: x, text: t, choices: [a, b, c], answer: 0, explanation: ''}\n",
            2,
            "x",
            "empty explanation",
        ),
        (
            "questions:\n  - {id: x, text: t, choices: [a, b], answer: 0, explanation: e}\n",
            2,
            "x",
            "2 choices",
        ),
        ("questions:\n  - {id: x, generator: nope}\n", 2, "x", "unknown generator 'nope'"),
        ("questions:\n  - {id: x, generator: test_raises}\n", 2, "x", "raised ZeroDivisionError"),
        (
            "questions:\n  - {id: x, generator: test_duplicates}\n",
            2,
            "x",
            "seed 7: duplicate or ambiguous",
        ),
        (
            "\n\nquestions:\n  - " + GOOD.replace("ID", "x") + "\n  - {text: t}\n",
            5,
            None,
            "missing id",
        ),
    ],
    ids=[
        "yaml",
        "missing-field",
        "answer-range",
        "duplicate-choices",
        "ambiguous-choices",
        "empty-explanation",
        "too-few-choices",
        "unknown-generator",
        "generator-raises",
        "generator-duplicates",
        "missing-id",
    ],
)
def test_each_kind_of_broken_bank_is_reported_with_file_line_and_id(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int,
    qid: str | None,
    message: str,
) -> None:
    def raises(rng, **_):
        return 1 / 0

    def duplicates(rng, **_):
        seed_seven = rng.random() == __import__("random").Random(7).random()
        return {
            "text": "t",
            "choices": ["1", "1" if seed_seven else "2", "3"],
            "answer": 0,
            "explanation": "e",
        }

    monkeypatch.setitem(generators.GENERATORS, "test_raises", raises)
    monkeypatch.setitem(generators.GENERATORS, "test_duplicates", duplicates)
    path = tmp_path / "bank.yaml"
    path.write_text(text)
    problems = validate([path])
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.path, p.line, p.qid) == (path, line, qid) and message in p.message
    assert str(p).startswith(f"{path}:{line}")


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("questions:\n  - " + GOOD.replace("ID", "same") + "\n")
    (tmp_path / "b.yaml").write_text("# b\nquestions:\n  - " + GOOD.replace("ID", "same") + "\n")
    problems = validate([tmp_path])
    assert [(p.path.name, p.line, p.qid) for p in problems] == [("b.yaml", 3, "same")]
    assert "first at" in problems[0].message and "a.yaml:2" in problems[0].message


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "g.yaml").write_text(
        "questions:\n  - {id: g, text: 'Which one?', choices: [one, two, six], answer: 0,"
        " explanation: e}\n"
    )
    ok = subprocess.run([*DLGRADE, "quiz", "validate", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.splitlines()[-1].startswith("ok: "), ok.stdout
    (tmp_path / "bad.yaml").write_text("questions:\n  - {id: x, text: t}\n")
    bad = subprocess.run(
        [*DLGRADE, "quiz", "validate", str(tmp_path)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and f"{tmp_path / 'bad.yaml'}:2 [x]: missing field" in bad.stdout
    missing = subprocess.run(
        [*DLGRADE, "quiz", "validate", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


# -- generators against an independent computation ---------------------------------------------
def test_conv_output_size_generator_agrees_with_torch() -> None:
    import torch

    for seed in range(60):
        r = generators.GENERATORS["conv_output_size"](__import__("random").Random(seed))
        k, s, p, n = _conv_numbers(r["text"])
        out = torch.nn.functional.conv2d(
            torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p
        )
        assert r["choices"][r["answer"]] == str(out.shape[-1])


def _conv_numbers(text: str) -> tuple[int, int, int, int]:
    m = re.search(
        r"\$(\d+)\\times\d+\$ kernel, stride (\d+) and zero padding (\d+).*\$(\d+)\\times\d+\$ input",
        text,
    )
    assert m, text
    return tuple(int(v) for v in m.groups())  # type: ignore[return-value]


def test_softmax_generator_agrees_with_torch() -> None:
    import torch

    for seed in range(60):
        r = generators.GENERATORS["softmax_probability"](__import__("random").Random(seed))
        logits = [float(v) for v in re.search(r"z = \(([^)]*)\)", r["text"]).group(1).split(",")]
        cls = int(re.search(r"class (\d+)\?", r["text"]).group(1)) - 1
        p = torch.softmax(torch.tensor(logits, dtype=torch.float64), 0)[cls].item()
        assert r["choices"][r["answer"]] == f"{p:.3f}"


# -- the plain mode through a pipe, and the JSON it prints ---------------------------------------------
QUIZ_SCHEMA = {
    "type": "object",
    "required": ["score", "total", "questions"],
    "properties": {
        "score": {"type": "integer"},
        "total": {"type": "integer"},
        "questions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "topic", "answered", "correct", "timed_out"],
                "properties": {
                    "id": {"type": "string"},
                    "topic": {"type": "string"},
                    "answered": {"type": ["string", "null"]},
                    "correct": {"type": "boolean"},
                    "timed_out": {"type": "boolean"},
                },
            },
        },
    },
}


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "DLGRADE_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "100"}


def test_plain_mode_through_a_pipe_with_a_timeout(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            *DLGRADE,
            "quiz",
            "exam",
            "--bank",
            str(BANKS),
            "--n",
            "3",
            "--seed",
            "4",
            "--seconds-per-question",
            "1.5",
            "--json",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path),
        cwd=REPO,
    )
    assert proc.stdin is not None and proc.stderr is not None and proc.stdout is not None
    seen: list[bytes] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(proc.stderr.readline, b"")))
    output: list[bytes] = []
    writer = threading.Thread(target=lambda: output.append(proc.stdout.read()))
    reader.start()
    writer.start()
    proc.stdin.write(b"a\n")  # question 1: a
    proc.stdin.flush()
    # question 2's clock starts when it is shown (however long a loaded machine takes to get
    # there); it runs out while nothing is typed
    deadline = time.monotonic() + 60
    while not any(b"Question 2 of 3" in line for line in list(seen)):
        assert time.monotonic() < deadline and proc.poll() is None, b"".join(seen).decode()
        time.sleep(0.05)
    time.sleep(2.5)
    proc.stdin.write(b"\n")  # question 3: skipped
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0, b"".join(seen).decode()
    reader.join(timeout=10)
    writer.join(timeout=10)
    out, err = b"".join(output), b"".join(seen)
    result = json.loads(out)
    jsonschema.validate(result, QUIZ_SCHEMA)
    qs = result["questions"]
    assert [q["answered"] for q in qs] == ["a", None, None]
    assert [q["timed_out"] for q in qs] == [False, True, False]
    assert result["score"] == int(qs[0]["correct"]) and result["total"] == 3
    assert "time is up" in err.decode()
    assert "the answer:" not in err.decode()  # exam mode reveals nothing before the review...
    assert (
        "answer: " in err.decode().split("Score:")[0].split("exam quiz:")[-1]
    )  # ...then everything


def test_the_quiz_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys, atexit\n"
        "atexit.register(lambda: print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr))\n"
        "from grader.cli import main\nmain()\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "quiz",
            "practice",
            "--bank",
            str(BANKS),
            "--n",
            "2",
            "--seed",
            "1",
        ],
        input=b"a\nb\n",
        capture_output=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert proc.returncode == 0 and b"NO-TORCH" in proc.stderr, proc.stderr


# -- nothing lost: SIGKILL between two answers, then resume -------------------------------------------
def test_a_killed_quiz_loses_no_answer_and_resumes(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            *DLGRADE,
            "quiz",
            "practice",
            "--bank",
            str(BANKS),
            "--n",
            "4",
            "--seed",
            "9",
            "--seconds-per-question",
            "30",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(tmp_path),
    )
    assert proc.stdin is not None and proc.stdout is not None
    seen = b""
    proc.stdin.write(b"b\n")
    proc.stdin.flush()
    while seen.count(b"Question ") < 2:  # the answer is saved and question 2 is on screen
        chunk = proc.stdout.read1(4096)
        assert chunk, seen.decode()
        seen += chunk
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    db = sqlite3.connect(tmp_path / "quiz.sqlite")
    rows = db.execute("SELECT position, status, choice FROM items ORDER BY position").fetchall()
    assert rows[0] == (0, "answered", 1) and rows[1][1] == "open" and rows[2][1] == "pending"
    assert db.execute("SELECT finished FROM attempts").fetchone() == (None,)
    db.close()

    resumed = subprocess.run(
        [*DLGRADE, "quiz", "resume", "--bank", str(BANKS), "--json"],
        input=b"a\na\n",
        capture_output=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    result = json.loads(resumed.stdout)
    assert [q["answered"] for q in result["questions"]] == ["b", None, "a", "a"]
    assert result["questions"][1]["timed_out"] is True
    history = subprocess.run(
        [*DLGRADE, "quiz", "history"], capture_output=True, text=True, env=_env(tmp_path)
    )
    assert (
        history.returncode == 0
        and "finished" in history.stdout
        and "score per topic" in history.stdout
    )
    again = subprocess.run(
        [*DLGRADE, "quiz", "resume", "--bank", str(BANKS)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
    )
    assert again.returncode == 2 and "no unfinished quiz" in again.stderr


# -- the interactive mode in a real pseudo-terminal ------------------------------------------------
class Terminal:
    """A program in a pseudo-terminal (pexpect), its output played into a screen emulator (pyte), so
    tests read what a user would see, however the program chose to redraw it."""

    def __init__(
        self, args: list[str], env: dict[str, str], cols: int = 80, rows: int = 24
    ) -> None:
        import pexpect
        import pyte

        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.child = pexpect.spawn(args[0], args[1:], env=env, dimensions=(rows, cols))

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        import pexpect

        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the screen:\n{self.text()}")
            try:
                chunk = self.child.read_nonblocking(4096, timeout=0.1)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                raise AssertionError(
                    f"ended before {needle!r}; the screen:\n{self.text()}"
                ) from None
            self.raw += chunk
            self.stream.feed(chunk)
        return self.text()

    def rest(self) -> bytes:
        import pexpect

        while True:
            try:
                self.raw += self.child.read_nonblocking(4096, timeout=10)
            except pexpect.EOF:
                break
        self.child.close()
        return self.raw


def test_interactive_mode_in_a_pseudo_terminal(tmp_path: Path) -> None:
    term = Terminal(
        [
            *DLGRADE,
            "quiz",
            "practice",
            "--bank",
            str(BANKS),
            "--n",
            "2",
            "--seed",
            "2",
            "--seconds-per-question",
            "4",
            "--json",
        ],
        _env(tmp_path),
    )
    screen = term.wait_for("Question 1 of 2")
    assert "time left 00:0" in screen and "a) " in screen and "Enter: save" in screen
    term.child.send("b")
    term.wait_for("❯ b)")  # selected, not saved yet
    term.child.send("\r")
    screen = term.wait_for("the answer:")
    assert "saved: b)" in screen
    term.child.send("\r")
    term.wait_for("Question 2 of 2")
    screen = term.wait_for("time is up", timeout=10)  # idle until the deadline: it closes by itself
    term.child.send("\r")
    raw = term.rest().decode(errors="replace")
    assert term.child.exitstatus == 0
    result = json.loads(raw[raw.index('{"score"') :].splitlines()[0])
    assert [q["answered"] for q in result["questions"]] == ["b", None]
    assert result["questions"][1]["timed_out"] is True


@pytest.mark.parametrize(
    ("tex", "shown"),
    [
        (r"$w \leftarrow w + \eta (y - f) x$", "w ← w + η(y − f) x"),
        (r"$\sigma(z_1 - z_2)$", "σ(z₁ − z₂)"),
        (r"a $5\times 5$ kernel", "a 5 × 5 kernel"),
        (r"$(R / \gamma)^2$ and $e^{z_i}$", "(R / γ)² and e^(zᵢ)"),
        (r"$\mathrm{softmax}(z)_k$ costs \$5", "softmax(z)ₖ costs $5"),
        (r"$\unknown{x}$", r"\unknownx"),  # what it does not know stays readable as written
    ],
)
def test_inline_math_is_made_readable_for_a_terminal(tex: str, shown: str) -> None:
    from grader.quiz.texmath import readable

    assert readable(tex) == shown


def test_the_bank_cache_follows_the_file(tmp_path: Path) -> None:
    from grader.quiz.bank import _cache_file

    path = tmp_path / "t.yaml"
    path.write_text("questions:\n  - " + GOOD.replace("ID", "first") + "\n")
    assert list(load([path]).questions) == ["first"]
    assert _cache_file(path).is_file()
    path.write_text("questions:\n  - " + GOOD.replace("ID", "second-one") + "\n")
    assert list(load([path]).questions) == ["second-one"]
    _cache_file(path).write_text("{not json")
    assert list(load([path]).questions) == ["second-one"]


def test_a_practice_quiz_works_on_every_topic() -> None:
    bank = load([BANKS])
    for topic in bank.topics():
        clock = FakeClock()
        s = Session(draw(bank, n=5, seed=3, topics=[topic]), clock=clock)
        assert s.total == 5 and {i.topic for i in s.items} == {topic}
        while (item := s.show()) is not None:
            assert len(item.choices) >= 3 and item.rendered.explanation
            s.save(item.answer)
        assert s.score == 5
