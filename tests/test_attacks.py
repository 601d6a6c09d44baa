"""The adversarial suite: every attack of tests/attacks.py at every isolation level this machine
offers, with the outcome tests/attacks.py's OUTCOMES (and README.md's table) promise.

- bubblewrap: one class, every attack beside honest neighbours, graded by `dlgrade grade` in a
  child process: each attack earns only its honest score, the neighbours keep full marks, no
  process outlives the run, no output holds a secret or an escape sequence.
- uid: each attack as one Gradescope run (one student per run) with the forbidden packages
  locked and the course unreadable.
- process: a class is refused in one line; the grader-side defences hold all the same.
Levels this machine cannot offer are skipped with the reason.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from attacks import (
    ATTACKS,
    CARRIED_STATE_READER,
    HONEST,
    HONEST2,
    LEVEL_NAMES,
    OUTCOMES,
    defeated_at,
    earned_honestly,
    outcome,
    source,
    write_course,
)
from conftest import REPO
from helpers import processes_of, uid_base

from grader.sandbox.isolation import bwrap

SECRET = "s3cr3t-instructor-token-93421"
DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
needs_bwrap = pytest.mark.skipif(
    bwrap() is None, reason="bubblewrap cannot build a sandbox on this machine"
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the uid level needs a root grader")


def env_for(base: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DLGRADE_UID_BASE": str(base),
        "DLGRADE_TEST_SECRET": SECRET,
        **extra,
    }


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


# -- bubblewrap: a hostile class ---------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    course = write_course(root / "course")
    subs, out = root / "subs", root / "out"
    for name in ATTACKS:
        folder = subs / f"a_{name}"
        folder.mkdir(parents=True)
        (folder / "toy.py").write_text(source(name, out, course))
    (subs / "a_carries_state_to_the_next_exercise" / "toy2.py").write_text(CARRIED_STATE_READER)
    for i in range(12):
        folder = subs / f"h{i:02d}"
        folder.mkdir(parents=True)
        (folder / "toy.py").write_text(HONEST)
        (folder / "toy2.py").write_text(HONEST2)
    base = uid_base(1)
    started = time.monotonic()
    proc = subprocess.run(
        [
            *DLGRADE,
            "--course",
            str(course),
            "grade",
            str(subs),
            "--out",
            str(out),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env_for(base),
    )
    seconds = time.monotonic() - started
    left = processes_of(base)
    grades_after_run = (out / "grades.csv").read_text() if (out / "grades.csv").exists() else ""
    time.sleep(1.5)  # what lingered would write now
    return {
        "proc": proc,
        "out": out,
        "left": left,
        "grades": grades_after_run,
        "seconds": seconds,
        "base": base,
    }


def _results(out: Path, student: str) -> dict[str, dict]:
    return {r["exercise"]: r for r in json.loads((out / f"{student}.json").read_text())}


@needs_bwrap
def test_the_hostile_class_is_graded(hostile_class: dict) -> None:
    proc = hostile_class["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sandbox: bubblewrap" in proc.stdout
    run = json.loads((hostile_class["out"] / "_run.json").read_text())
    assert run["isolation"]["level"] == "bubblewrap"


@needs_bwrap
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_attack_earns_only_its_honest_score_with_bubblewrap(
    hostile_class: dict, name: str
) -> None:
    assert outcome(name, "bubblewrap") == "defeated"
    toy = _results(hostile_class["out"], f"a_{name}")["toy"]
    assert earned_honestly(name, toy["score"], toy["tests"]), toy["tests"]
    assert toy["isolation"] == "bubblewrap"


@needs_bwrap
def test_honest_neighbours_keep_full_marks(hostile_class: dict) -> None:
    rows = list(csv.DictReader((hostile_class["out"] / "grades.csv").open()))
    honest = {r["student"]: r for r in rows if r["student"].startswith("h")}
    assert len(honest) == 12
    assert {(r["toy"], r["toy2"], r["total"]) for r in honest.values()} == {("3", "1", "4")}


@needs_bwrap
def test_nothing_outlives_the_run_and_the_outputs_are_untouched(hostile_class: dict) -> None:
    out = hostile_class["out"]
    assert hostile_class["left"] == [], "processes of the run's sandboxes outlived it"
    assert processes_of(hostile_class["base"]) == []
    assert not (out / "pwned").exists()
    assert (out / "grades.csv").read_text() == hostile_class["grades"]
    assert "pwned" not in hostile_class["grades"]


@needs_bwrap
def test_no_secret_no_escape_and_no_huge_message_in_any_output(hostile_class: dict) -> None:
    out = hostile_class["out"]
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".csv")]
    assert len(files) > 2 * len(ATTACKS)
    for path in files:
        text = path.read_text()
        assert SECRET not in text, path
        if path.suffix == ".json":
            for s in strings_in(json.loads(text)):
                assert "\x1b" not in s, (path, s[:80])
                assert len(s) < 4000, (path, len(s))
    ledger = out / "grading.sqlite"
    assert ledger.stat().st_size < 2 << 20  # 5 MB messages would be in it otherwise


@needs_bwrap
def test_no_state_carries_from_one_exercise_to_the_next(hostile_class: dict) -> None:
    toy2 = _results(hostile_class["out"], "a_carries_state_to_the_next_exercise")["toy2"]
    gradescope = json.loads(
        (
            hostile_class["out"]
            / "gradescope"
            / "a_carries_state_to_the_next_exercise"
            / "results.json"
        ).read_text()
    )
    printed = " ".join(t["output"] for t in gradescope["tests"])
    assert toy2["score"] == 1.0
    assert "found: nothing" in printed and "LEAK" not in printed


@needs_bwrap
def test_limits_hold_for_the_whole_sandbox(hostile_class: dict) -> None:
    """Four children of one worker cannot hold more than the sandbox's memory together, nor can
    a worker fork hundreds, nor fill the disk: each of those attacks earns only its honest point."""
    for name in ("memory_across_children", "forks_hundreds", "fills_the_disk"):
        toy = _results(hostile_class["out"], f"a_{name}")["toy"]
        statuses = {t["name"]: t["status"] for t in toy["tests"]}
        assert statuses["test_double"] != "passed", (name, toy["tests"])


# -- process level: a class is refused; the grader's own defences hold ------------------------
def test_a_class_is_refused_without_bubblewrap(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "toy.py").write_text(HONEST)
    proc = subprocess.run(
        [
            *DLGRADE,
            "--course",
            str(course),
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env_for(uid_base(2), DLGRADE_NO_BWRAP="1"),
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bubblewrap" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    trusted = subprocess.run(
        [
            *DLGRADE,
            "--course",
            str(course),
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
            "--trust-submissions",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env_for(uid_base(2), DLGRADE_NO_BWRAP="1"),
    )
    assert trusted.returncode == 0, trusted.stderr
    run = json.loads((tmp_path / "out" / "_run.json").read_text())
    assert run["isolation"]["level"] in ("process", "uid")


GRADE_EACH = """
import json, resource, sys, time
from pathlib import Path
from grader.engine.runner import run_graders
from grader.sandbox.isolation import detect
tests, out = Path(sys.argv[1]), {}
for path in sys.argv[2:]:
    started = time.monotonic()
    result = run_graders(tests, Path(path), exercise="toy", seed=3, isolation=detect())
    out[Path(path).parent.name] = {
        "score": result.score,
        "seconds": time.monotonic() - started,
        "isolation": result.isolation,
        "tests": [[t.name, t.status, t.message, t.output] for t in result.tests],
    }
out["_peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""

GRADER_SIDE = [
    n for n in defeated_at("process") if n not in ("memory_across_children", "forks_hundreds")
]


@pytest.mark.parametrize("level", ["bubblewrap", "process"])
def test_the_grader_trusts_no_byte_from_the_worker(tmp_path: Path, level: str) -> None:
    """Bombs, huge or hostile strings and answers of the wrong shape, at both levels: each costs
    its own test, within seconds and without growing the grader, and reaches no output raw."""
    if level == "bubblewrap" and bwrap() is None:
        pytest.skip("bubblewrap cannot build a sandbox on this machine")
    course = write_course(tmp_path / "course")
    paths = []
    for name in [*GRADER_SIDE, "honest"]:
        folder = tmp_path / "subs" / name
        folder.mkdir(parents=True)
        text = HONEST if name == "honest" else source(name, tmp_path / "out", course)
        paths.append(folder / "toy.py")
        paths[-1].write_text(text)
    extra = {"DLGRADE_NO_BWRAP": "1"} if level == "process" else {}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            GRADE_EACH,
            str(course / "solutions" / "test_toy.py"),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env_for(uid_base(3), **extra),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["_peak_kib"] < 1_000_000  # the grader never took a bomb's gigabytes
    assert results["honest"]["score"] == 3.0
    for name in GRADER_SIDE:
        got = results[name]
        tests = [{"name": n, "status": st} for n, st, _, _ in got["tests"]]
        assert earned_honestly(name, got["score"], tests), (name, got["tests"])
        assert got["seconds"] < 30, (name, got["seconds"])
        for _, _, message, output in got["tests"]:
            assert "\x1b" not in message + output and SECRET not in message + output
            assert len(message) < 2100 and len(output) < 4000
    if level == "process":
        assert results["honest"]["isolation"] in ("process", "uid")


# -- uid level: one student per run, as in Gradescope's container ---------------------------------
LOCK = Path("/tmp/dlgrade-test-lockdown.lock")

UID_RUN = """
import json, sys
from pathlib import Path
from grader.course import Course
from grader.instructor.assignment import load_assignment
from grader.instructor.gradescope import run
course = Course.load(Path(sys.argv[1]))
a = load_assignment(Path(sys.argv[2]), course, check_quiz=False)
out = {}
for submission in sys.argv[3:]:
    submission = Path(submission)
    results = submission.parent / (submission.name + "-results.json")
    out[submission.name] = run(a, course, submission, results, submission / "none.json")
print(json.dumps(out))
"""


@pytest.fixture
def locked_packages():
    """The forbidden packages made unreadable to other uids for the test (what `dlgrade sandbox
    lockdown` does in the Gradescope image), and restored after; serialised between test runs."""
    from grader.sandbox.isolation import detect, forbidden_package_files, lock_down

    with open(LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        modes = {}
        for origin in forbidden_package_files():
            folder = origin.parent if origin.name == "__init__.py" else origin
            for path in (folder, folder.with_name(folder.name + ".libs")):
                if path.exists():
                    modes[path] = path.stat().st_mode
        try:
            lock_down()
            yield
        finally:
            for path, mode in modes.items():
                os.chmod(path, mode)
            detect.cache_clear()


@needs_root
def test_each_attack_is_defeated_at_the_uid_level(tmp_path: Path, locked_packages) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    course = write_course(private / "course")
    from grader.course import Course
    from grader.instructor.secret import class_secret

    class_secret(Course.load(course))  # the autograder zip carries the class secret
    assignment = private / "a.yaml"
    assignment.write_text(
        "title: toy\nexercises:\n  - {name: toy, weight: 1}\n  - {name: toy2, weight: 1}\n"
    )
    out = private / "runs"
    names = defeated_at("uid")
    subs = []
    for name in [*names, "honest"]:
        folder = out / name
        folder.mkdir(parents=True)
        (folder / "toy.py").write_text(HONEST if name == "honest" else source(name, out, course))
        (folder / "toy2.py").write_text(HONEST2)
        subs.append(folder)
    (out / "carries_state_to_the_next_exercise" / "toy2.py").write_text(CARRIED_STATE_READER)
    base = uid_base(4)
    proc = subprocess.run(
        [sys.executable, "-c", UID_RUN, str(course), str(assignment), *map(str, subs)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env_for(base, DLGRADE_NO_BWRAP="1"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "sandbox: uid" in results["honest"]["output"], results["honest"]["output"]
    assert results["honest"]["score"] == 100
    for name in names:
        got = results[name]
        if name == "carries_state_to_the_next_exercise":
            printed = " ".join(t["output"] for t in got["tests"])
            assert "found: nothing" in printed and "LEAK" not in printed
        toy = [t for t in got["tests"] if t["name"].startswith("toy:")]
        toy_score = sum(t["score"] for t in toy) * 3 / 50  # back to the toy's own points
        assert earned_honestly(name, round(toy_score, 3), toy), (name, got["score"], toy)
        assert abs(got["score"] - toy_score * 50 / 3 - 50) < 0.01, (name, got["score"])
        assert SECRET not in json.dumps(got) and "\\u001b" not in json.dumps(got)
    assert processes_of(base) == []
    assert not (out / "pwned").exists()


# -- the grading process killed: nothing it started survives --------------------------------------
SLOW = """
import time
def double(x):
    time.sleep(1.5)
    return 2 * x
def coin(rng):
    return int(rng.integers(2))
"""


def _descendants(root: int) -> set[int]:
    from grader.sandbox.procfs import process_tree

    return process_tree(root) - {root}


def test_killing_the_grading_process_leaves_nothing_behind(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    for i in range(6):
        folder = tmp_path / "subs" / f"s{i}"
        folder.mkdir(parents=True)
        (folder / "toy.py").write_text(SLOW)
    base = uid_base(5)
    args = [
        *DLGRADE,
        "--course",
        str(course),
        "grade",
        str(tmp_path / "subs"),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "2",
    ]
    if bwrap() is None:
        args.append("--trust-submissions")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(base))
    deadline = time.monotonic() + 120
    started: set[int] = set()
    while time.monotonic() < deadline:  # until sandboxes are up and grading
        started |= _descendants(proc.pid)
        if processes_of(base):
            break
        time.sleep(0.1)
    assert processes_of(base), "no sandbox started"
    time.sleep(0.5)
    started |= _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    stdout, _ = proc.communicate(timeout=10)  # EOF: no process holds the run's pipes open
    eof_after = time.monotonic() - killed_at
    time.sleep(max(0.0, 2.0 - (time.monotonic() - killed_at)))
    alive = [p for p in started if Path(f"/proc/{p}").exists() and _zombie_free(p)]
    assert alive == [], f"{len(alive)} of the {len(started)} processes the run started survived"
    assert processes_of(base) == []
    assert eof_after < 2.0, eof_after


def _zombie_free(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# -- the README says what is tested -------------------------------------------------------------
def test_the_readme_table_is_the_tested_outcomes() -> None:
    text = (REPO / "README.md").read_text()
    section = text[text.index("### What the sandbox protects against") :]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.search(r"\(`([a-z_]+)`\)", cells[0]) if len(cells) == 4 else None
        if match and match.group(1) in ATTACKS:
            rows[match.group(1)] = tuple(re.sub(r"[^a-z]", "", c.lower()) for c in cells[1:])
    assert set(rows) == set(ATTACKS)
    for name, expected in OUTCOMES.items():
        assert rows[name] == expected, (name, rows[name], expected)
    assert LEVEL_NAMES == ("bubblewrap", "uid", "process")


# -- one bad submission never stops the class ---------------------------------------------------
KILL_SWITCH = '''
import os
import signal

import pytest


@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_echo(student):
    """echo("hello") is "hello"; an answer of "KILL" stands for a grader that dies of it."""
    answer = student.echo("hello")
    if answer == "KILL":
        os.kill(os.getpid(), signal.SIGKILL)
    assert answer == "hello"
'''


def test_a_submission_that_kills_its_grading_process_is_given_up(tmp_path: Path) -> None:
    """Whatever ends a grading process (here a grader that dies of one student's answer) costs
    that student, after two tries, and nobody else; a run started again does not retry it."""
    course = write_course(tmp_path / "course")
    (course / "solutions" / "test_toy2.py").write_text(KILL_SWITCH)
    subs = tmp_path / "subs"
    for i in range(5):
        (subs / f"h{i}").mkdir(parents=True)
        (subs / f"h{i}" / "toy2.py").write_text(HONEST2)
    (subs / "killer").mkdir()
    (subs / "killer" / "toy2.py").write_text("def echo(text):\n    return 'KILL'\n")
    args = [
        *DLGRADE,
        "--course",
        str(course),
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--exercise",
        "toy2",
        "--workers",
        "2",
    ]
    if bwrap() is None:
        args.append("--trust-submissions")
    env = env_for(uid_base(6))
    first = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    assert {rows[f"h{i}"]["toy2"] for i in range(5)} == {"1"}
    assert rows["killer"]["toy2"] == "0"
    killer = _results(tmp_path / "out", "killer")["toy2"]
    assert "stopped the grading process 2 times" in killer["tests"][0]["message"]
    again = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0 and "graded 0 submissions" in again.stdout, again.stdout
