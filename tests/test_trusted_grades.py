"""Grades an instructor can trust (issue 16): no stale grade, no grader fault charged to a
student, no grade through a link or a replayed input, an endless loop that costs its own time
once, outputs that merge, add up and repeat byte for byte, and the LMS's files in and out.

The class runs use the toy course of tests/attacks.py (two small exercises), through the CLI as
an instructor types it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from attacks import HONEST, HONEST2, write_course
from click.testing import CliRunner

from grader.cli import cli
from grader.course import Course
from grader.engine.seeding import seed_for_student, seed_of_test
from grader.instructor.secret import class_secret
from grader.sandbox.isolation import bwrap

TRUST = [] if bwrap() is not None else ["--trust-submissions"]


def dlgrade(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def grade(course: Path, subs: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return dlgrade("--course", str(course), "grade", str(subs), "--out", str(out), *TRUST, *extra)


def rows(out: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}


def results(out: Path, student: str) -> dict[str, dict]:
    return {r["exercise"]: r for r in json.loads((out / f"{student}.json").read_text())}


def make_class(root: Path, names: list[str], toy: str = HONEST, toy2: str = HONEST2) -> Path:
    for name in names:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "toy.py").write_text(toy)
        (root / name / "toy2.py").write_text(toy2)
    return root


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return write_course(tmp_path / "course")


# -- stale grades ---------------------------------------------------------------------------------
def test_a_change_of_the_graders_points_regrades_and_says_why(toy: Path, tmp_path: Path) -> None:
    subs, out = make_class(tmp_path / "subs", ["ann", "bob"]), tmp_path / "out"
    code, stdout, _ = grade(toy, subs, out)
    assert code == 0 and rows(out)["ann"]["toy"] == "3"
    code, stdout, _ = grade(toy, subs, out)
    assert "graded 0 submissions" in stdout and "4 unchanged" in stdout
    graders = toy / "solutions" / "test_toy.py"
    graders.write_text(
        graders.read_text().replace("@pytest.mark.points(1)", "@pytest.mark.points(2)", 1)
    )
    code, stdout, _ = grade(toy, subs, out)
    assert code == 0, stdout
    assert "graded 2 submissions (2 for changed graders)" in stdout
    assert rows(out)["ann"]["toy"] == "4" and rows(out)["ann"]["toy2"] == "1"


@pytest.mark.parametrize(
    "what",
    ["mistakes", "reference", "secret"],
)
def test_every_file_that_decides_a_score_is_in_the_key(
    toy: Path, tmp_path: Path, what: str
) -> None:
    subs, out = make_class(tmp_path / "subs", ["ann"]), tmp_path / "out"
    assert grade(toy, subs, out)[0] == 0
    if what == "mistakes":
        (toy / "solutions" / "mistakes_toy.py").write_text("# no mistake known yet\n")
    elif what == "reference":
        ref = toy / "solutions" / "toy.py"
        ref.write_text(ref.read_text() + "\n# a comment\n")
    else:
        (toy / "solutions" / ".class-secret").unlink()
    code, stdout, _ = grade(toy, subs, out)
    assert code == 0
    reason = {
        "mistakes": "a changed mistakes file",
        "reference": "a changed reference solution",
        "secret": "a changed class secret",
    }[what]
    assert f"for {reason}" in stdout, stdout


# -- grader faults are the instructor's -------------------------------------------------------
BROKEN = '''

### BEGIN HIDDEN TESTS
@pytest.mark.points(1)
def test_broken_grader(student):
    """A grader with a typo."""
    expect_array(student.double(np.ones(2)), expectd)
### END HIDDEN TESTS
'''


def test_a_grader_name_error_is_exit_3_and_charges_nobody(toy: Path, tmp_path: Path) -> None:
    graders = toy / "solutions" / "test_toy.py"
    graders.write_text(graders.read_text() + BROKEN)
    code, _, stderr = dlgrade("--course", str(toy), "check", "toy", "--solution")
    assert code == 3
    assert "test_broken_grader" in stderr and "test_toy.py, line" in stderr
    assert "NameError" in stderr
    subs, out = make_class(tmp_path / "subs", ["ann", "bob"]), tmp_path / "out"
    code, _, stderr = grade(toy, subs, out)
    assert code == 3
    assert "test_broken_grader" in stderr and "NameError" in stderr
    assert not (out / "ann.json").exists()  # nobody was charged for it


def test_a_reference_below_full_marks_stops_the_class_before_anyone(
    toy: Path, tmp_path: Path
) -> None:
    graders = toy / "solutions" / "test_toy.py"
    graders.write_text(
        graders.read_text().replace(
            "expect_array(student.double(x), 2 * x)", "expect_array(student.double(x), 3 * x)"
        )
    )
    subs, out = make_class(tmp_path / "subs", ["ann"]), tmp_path / "out"
    code, _, stderr = grade(toy, subs, out)
    assert code == 3
    assert "the reference solution of toy scores 2 / 3" in stderr and "test_double" in stderr
    assert not (out / "grades.csv").exists()


# -- only regular files ---------------------------------------------------------------------------
def test_links_folders_fifos_and_devices_are_errors_and_neighbours_are_graded(
    toy: Path, tmp_path: Path
) -> None:
    subs = make_class(tmp_path / "subs", ["alice", "carol"])
    for name in ("link", "reflink", "folder", "fifo", "zero", "loop", "bigfile"):
        (subs / name).mkdir()
    (subs / "link" / "toy.py").symlink_to(subs / "alice" / "toy.py")
    (subs / "reflink" / "toy.py").symlink_to(toy / "solutions" / "toy.py")
    (subs / "folder" / "toy.py").mkdir()
    os.mkfifo(subs / "fifo" / "toy.py")
    (subs / "zero" / "toy.py").symlink_to("/dev/zero")
    (subs / "loop" / "toy.py").symlink_to(subs / "loop" / "toy.py")
    (subs / "bigfile" / "toy.py").write_bytes(b"#" * (2 << 20))
    (subs / "mallory").symlink_to(subs / "alice")  # a whole folder that is a link
    out = tmp_path / "out"
    code, stdout, stderr = grade(toy, subs, out, "--exercise", "toy")
    assert code == 0, stderr
    table = rows(out)
    assert table["alice"]["toy"] == "3" and table["carol"]["toy"] == "3"
    expected = {
        "link": "symbolic link",
        "reflink": "symbolic link",
        "folder": "a folder",
        "fifo": "a FIFO",
        "zero": "symbolic link",
        "loop": "symbolic link",
        "bigfile": "larger than",
        "mallory": "symbolic link",
    }
    for student, words in expected.items():
        assert table[student]["toy"] == "0", student
        message = results(out, student)["toy"]["tests"][0]["message"]
        assert words in message, (student, message)


def test_archive_junk_near_misses_and_the_output_folder_inside(toy: Path, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_class(subs, ["ann"])
    (subs / "__MACOSX" / "ann").mkdir(parents=True)
    (subs / "__MACOSX" / "ann" / "._toy.py").write_bytes(b"\x00\x05junk")
    (subs / ".DS_Store").write_bytes(b"junk")
    (subs / "bob").mkdir()
    (subs / "bob" / "Toy.py").write_text(HONEST)  # other case
    (subs / "cid").mkdir()
    (subs / "cid" / "toy (1).py").write_text(HONEST)  # a browser's second download
    (subs / "dan" / "hw1").mkdir(parents=True)
    (subs / "dan" / "hw1" / "toy.py").write_text(HONEST)  # a subfolder
    (subs / "eve").mkdir()
    (subs / "eve" / "my_answer.py").write_text(HONEST)  # nothing fits: named in the error
    out = subs / "grades"  # --out inside the submissions folder
    code, stdout, stderr = grade(toy, subs, out, "--exercise", "toy")
    assert code == 0, stderr
    table = rows(out)
    assert set(table) == {"ann", "bob", "cid", "dan", "eve"}
    assert {table[s]["toy"] for s in ("ann", "bob", "cid", "dan")} == {"3"}
    assert "graded bob/Toy.py as toy.py (its name differs in case)" in stderr
    assert "graded dan/hw1/toy.py as toy.py (in a subfolder)" in stderr
    assert "skipped __MACOSX/" in stderr and "skipped grades/ (the output folder)" in stderr
    message = results(out, "eve")["toy"]["tests"][0]["message"]
    assert "no file toy.py" in message and "my_answer.py" in message


# -- replayed inputs ------------------------------------------------------------------------------
def _table_submission(seed: int) -> str:
    """A submission that answers from a table of the inputs a local check shows, nothing else."""
    rng = np.random.default_rng(seed_of_test(seed, "toy", "test_double"))
    x = rng.normal(size=(3, 4))
    return (
        "import numpy as np\n"
        f"KNOWN = {x.tolist()!r}\n"
        "def double(x):\n"
        "    if np.allclose(x, KNOWN):\n"
        "        return 2 * np.array(KNOWN)\n"
        "    return np.zeros_like(x)\n"
    )


def test_inputs_seen_in_a_local_check_are_not_the_graded_ones(toy: Path, tmp_path: Path) -> None:
    path = tmp_path / "table.py"
    path.write_text(_table_submission(seed_for_student("ann")))
    env = {"DLGRADE_STUDENT": "ann"}
    local = CliRunner().invoke(
        cli,
        ["--course", str(toy), "check", "toy", "--path", str(path), "--hidden", "--json"],
        env=env,
    )
    local_tests = {t["name"]: t["status"] for t in json.loads(local.stdout)["tests"]}
    assert local_tests["test_double"] == "passed"  # the table works on the inputs it saw
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    shutil.copy(path, subs / "ann" / "toy.py")
    out = tmp_path / "out"
    assert grade(toy, subs, out, "--exercise", "toy")[0] == 0
    graded = {t["name"]: t["status"] for t in results(out, "ann")["toy"]["tests"]}
    assert graded["test_double"] == "failed"  # graded on inputs only the class secret gives
    secret = class_secret(Course.load(toy))
    again = CliRunner().invoke(
        cli,
        [
            "--course",
            str(toy),
            "check",
            "toy",
            "--path",
            str(subs / "ann" / "toy.py"),
            "--hidden",
            "--json",
            "--student",
            "ann",
        ],
    )
    assert {t["name"]: t["status"] for t in json.loads(again.stdout)["tests"]} == graded
    assert seed_for_student("ann", secret) != seed_for_student("ann")


# -- an endless loop costs its time once --------------------------------------------------------
LOOPS = """
def double(x):
    while True:
        pass

def coin(rng):
    return int(rng.integers(2))
"""


def test_an_endless_loop_costs_its_first_call_only(toy: Path, tmp_path: Path) -> None:
    subs = make_class(tmp_path / "subs", [f"s{i:02d}" for i in range(20)])
    out_plain = tmp_path / "plain"
    started = time.monotonic()
    assert grade(toy, subs, out_plain, "--exercise", "toy")[0] == 0
    plain = time.monotonic() - started
    (subs / "s07" / "toy.py").write_text(LOOPS)
    out = tmp_path / "out"
    started = time.monotonic()
    assert grade(toy, subs, out, "--exercise", "toy")[0] == 0
    looping = time.monotonic() - started
    tests = {t["name"]: t for t in results(out, "s07")["toy"]["tests"]}
    assert tests["test_double"]["status"] == "timeout"
    later = tests["test_double_leaves_its_input"]
    assert later["status"] == "timeout" and "not called again" in later["message"]
    assert "test_double" in later["message"]
    budget = Course.load(toy).time_budget
    assert looping <= 2 * plain + budget, (looping, plain)


def test_the_time_budget_of_an_exercise_is_shared_by_all_its_calls(tmp_path: Path) -> None:
    from grader.engine.runner import run_graders

    course = write_course(tmp_path / "course")
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import time\ndef double(x):\n    time.sleep(1.2)\n    return 2 * x\n"
        "def coin(rng):\n    time.sleep(1.2)\n    return 0\n"
    )
    result = run_graders(
        course / "solutions" / "test_toy.py", slow, exercise="toy", seed=1, time_budget=2.0
    )
    statuses = [t.status for t in result.tests]
    assert statuses[0] == "passed" and statuses[-1] == "timeout", result.tests
    assert "used up their 2 s together" in result.tests[-1].message


# -- outputs that merge, add up and repeat -----------------------------------------------------------
def test_grading_one_exercise_merges_into_the_class_files(toy: Path, tmp_path: Path) -> None:
    subs, out = make_class(tmp_path / "subs", ["ann", "bob"]), tmp_path / "out"
    assert grade(toy, subs, out)[0] == 0
    (subs / "ann" / "toy.py").write_text("def double(x):\n    return x\n")
    code, stdout, _ = grade(toy, subs, out, "--exercise", "toy")
    assert code == 0 and "graded 1 submission" in stdout
    table = rows(out)
    assert list(table["ann"]) == ["student", "toy", "toy2", "total"]
    assert (
        table["ann"]["toy"] == "1" and table["ann"]["toy2"] == "1" and table["ann"]["total"] == "2"
    )
    assert set(results(out, "ann")) == {"toy", "toy2"}


def test_an_assignment_weights_the_grade_and_charges_lateness(toy: Path, tmp_path: Path) -> None:
    subs = make_class(tmp_path / "subs", ["ann", "bob", "cid"])
    due = dt.datetime(2026, 12, 10, 23, 59)
    on_time = (due - dt.timedelta(hours=2)).timestamp()
    two_days_late = (due + dt.timedelta(days=1, hours=3)).timestamp()
    for student, when in (("ann", on_time), ("bob", two_days_late), ("cid", two_days_late)):
        for name in ("toy.py", "toy2.py"):
            os.utime(subs / student / name, (when, when))
    (subs / "bob" / "toy2.py").write_text("def echo(text):\n    return ''\n")
    os.utime(subs / "bob" / "toy2.py", (two_days_late, two_days_late))
    assignment = tmp_path / "week1.yaml"
    assignment.write_text(
        "title: Week 1\ndue: 2026-12-10 23:59\n"
        "exercises:\n  - {name: toy, weight: 3}\n  - {name: toy2, weight: 1}\n"
        "late: {penalty_per_day: 10, zero_after_days: 5}\n"
        "extensions: {cid: 3}\n"
    )
    out = tmp_path / "out"
    code, stdout, stderr = grade(toy, subs, out, "--assignment", str(assignment))
    assert code == 0, stderr
    table = rows(out)
    assert table["ann"]["weighted"] == "100.00" and table["ann"]["late_days"] == "0"
    assert table["ann"]["grade"] == "100.00"
    assert table["bob"]["weighted"] == "75.00" and table["bob"]["late_days"] == "2"
    assert table["bob"]["late_penalty_percent"] == "20" and table["bob"]["grade"] == "60.00"
    assert table["cid"]["late_days"] == "0" and table["cid"]["grade"] == "100.00"  # extension
    run = json.loads((out / "_run.json").read_text())
    assert run["assignment"]["weights"] == {"toy": 3.0, "toy2": 1.0}


PRINTS_A_WARNING = """
import warnings
import numpy as np

def double(x):
    warnings.warn("a warning of the submission's")
    print(__file__)
    return 2 * x

def coin(rng):
    return int(rng.integers(2))
"""


def test_two_runs_write_the_same_bytes(toy: Path, tmp_path: Path) -> None:
    subs = make_class(tmp_path / "subs", ["ann", "bob"])
    (subs / "bob" / "toy.py").write_text(PRINTS_A_WARNING)
    first, second = tmp_path / "first", tmp_path / "second"
    assert grade(toy, subs, first)[0] == 0
    assert grade(toy, subs, second)[0] == 0
    files = sorted(
        p.relative_to(first) for p in first.rglob("*") if p.is_file() and "sqlite" not in p.name
    )
    assert len(files) >= 6
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    text = (first / "gradescope" / "bob" / "results.json").read_text()
    assert "bob/toy.py" in text and "/tmp/" not in text and "dlgrade-" not in text


# -- LMS in and out ----------------------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes], when=(2026, 12, 10, 22, 0, 0)) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=when)
            z.writestr(info, data)
    return path


def test_canvas_download_in_and_gradebook_out(toy: Path, tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "submissions.zip",
        {
            "doejane_1001_5001_toy.py": HONEST.encode(),
            "doejane_1001_5001_toy2.py": HONEST2.encode(),
            "smithjohn_LATE_1002_5002_toy-1.py": b"def double(x):\n    return x\n",
            "smithjohn_LATE_1002_5002_toy2.py": HONEST2.encode(),
        },
    )
    roster = tmp_path / "canvas-gradebook.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Week 1 (777)\n"
        "    Points Possible,,,,,100\n"
        '"Doe, Jane",1001,S1001,jdoe,Sec A,\n'
        '"Smith, John",1002,S1002,jsmith,Sec B,\n'
    )
    subs, out = tmp_path / "subs", tmp_path / "out"
    code, stdout, stderr = dlgrade(
        "import", "canvas", str(archive), "--roster", str(roster), "--out", str(subs)
    )
    assert code == 0, stderr
    assert sorted(p.name for p in subs.iterdir()) == [
        "S1001",
        "S1002",
        "_students.csv",
        "_submitted.csv",
    ]
    assert (subs / "S1002" / "toy-1.py").is_file()  # Canvas's resubmission name: a near miss
    assert grade(toy, subs, out)[0] == 0
    code, _, stderr = dlgrade(
        "gradebook",
        "canvas",
        str(out),
        "--title",
        "Week 1",
        "--assignment-id",
        "777",
        "--out",
        str(tmp_path / "canvas.csv"),
    )
    assert code == 0, stderr
    book = list(csv.DictReader(io.StringIO((tmp_path / "canvas.csv").read_text())))
    assert list(book[0]) == ["Student", "ID", "SIS User ID", "Section", "Week 1 (777)"]
    by_id = {r["ID"]: r for r in book}
    assert by_id["1001"]["SIS User ID"] == "S1001" and by_id["1001"]["Week 1 (777)"] == "4"
    assert by_id["1002"]["Week 1 (777)"] == "2" and by_id["1002"]["Section"] == "Sec B"


def test_moodle_download_in_and_gradebook_out(toy: Path, tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "moodle.zip",
        {
            "Jane Doe_2001_assignsubmission_file_/toy.py": HONEST.encode(),
            "Jane Doe_2001_assignsubmission_file_/toy2.py": HONEST2.encode(),
            "John Smith_2002_assignsubmission_file_/toy.py": HONEST.encode(),
        },
    )
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum grade,Last modified (submission)\n"
        'Participant 2001,Jane Doe,jane.doe@uni.example,Submitted,,100,"Thursday, 10 December 2026, 10:00 PM"\n'
        'Participant 2002,John Smith,john.smith@uni.example,Submitted,,100,"Friday, 11 December 2026, 9:30 AM"\n'
    )
    subs, out = tmp_path / "subs", tmp_path / "out"
    code, _, stderr = dlgrade(
        "import", "moodle", str(archive), "--roster", str(worksheet), "--out", str(subs)
    )
    assert code == 0, stderr
    submitted = {
        r["student"]: r["submitted"] for r in csv.DictReader((subs / "_submitted.csv").open())
    }
    assert submitted == {"jane.doe": "2026-12-10 22:00", "john.smith": "2026-12-11 09:30"}
    assert grade(toy, subs, out)[0] == 0
    code, _, stderr = dlgrade(
        "gradebook", "moodle", str(out), "--title", "Week 1", "--out", str(tmp_path / "m.csv")
    )
    assert code == 0, stderr
    book = {r["Email address"]: r for r in csv.DictReader((tmp_path / "m.csv").open())}
    assert book["jane.doe@uni.example"]["Week 1"] == "4"
    assert book["john.smith@uni.example"]["Week 1"] == "3"


def test_gradescope_export_in(toy: Path, tmp_path: Path) -> None:
    metadata = (
        "submission_301:\n  :submitters:\n  - :name: Jane Doe\n    :sid: '3001'\n"
        "    :email: jane@uni.example\n  :created_at: 2026-12-10 21:00:00.000000000 +00:00\n"
    )
    archive = _zip(
        tmp_path / "export.zip",
        {
            "assignment_9_export/submission_metadata.yml": metadata.encode(),
            "assignment_9_export/submission_301/toy.py": HONEST.encode(),
        },
    )
    subs = tmp_path / "subs"
    code, _, stderr = dlgrade("import", "gradescope", str(archive), "--out", str(subs))
    assert code == 0, stderr
    assert (subs / "3001" / "toy.py").read_text() == HONEST
    people = list(csv.DictReader((subs / "_students.csv").open()))
    assert people[0]["email"] == "jane@uni.example" and people[0]["name"] == "Jane Doe"


def test_a_broken_archive_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.zip"
    bad.write_text("not a zip")
    code, _, stderr = dlgrade("import", "canvas", str(bad), "--out", str(tmp_path / "s"))
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "not a zip" in stderr


# -- the report -------------------------------------------------------------------------------------
def test_the_report_lists_each_students_problems_in_course_order(toy: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    subs = make_class(tmp_path / "subs", ["ann", "bob"])
    (subs / "bob" / "toy.py").write_text("def double(x)\n")  # a syntax error
    (subs / "bob" / "toy2.py").unlink()
    out = tmp_path / "out"
    assert grade(toy, subs, out)[0] == 0
    code, _, stderr = dlgrade("report", str(out), "--out", str(tmp_path / "r.html"))
    assert code == 0, stderr
    page = (tmp_path / "r.html").read_text()
    students = page[page.index("<h2>Students</h2>") :]
    assert "toy: syntax error" in students and "toy2: missing file" in students
    assert students.index("<th>toy</th>") < students.index("<th>toy2</th>")


def test_the_gradescope_run_grades_only_regular_files(toy: Path, tmp_path: Path) -> None:
    """The autograder reads a submission as a class run does: a link to the reference scores 0,
    saying why."""
    from grader.instructor.assignment import load_assignment
    from grader.instructor.gradescope import run

    course = Course.load(toy)
    class_secret(course)
    spec = tmp_path / "a.yaml"
    spec.write_text("title: t\nexercises:\n  - {name: toy, weight: 1}\n")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "toy.py").symlink_to(toy / "solutions" / "toy.py")
    out = run(
        load_assignment(spec, course, check_quiz=False),
        course,
        submission,
        tmp_path / "results" / "results.json",
        tmp_path / "none.json",
    )
    assert out["score"] == 0
    assert "symbolic link" in out["output"]


ODD_ANSWER_BREAKS = '''
import pytest


@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_echo(student):
    """echo("hello") is "hello" (this grader breaks on an answer it did not expect)."""
    answer = student.echo("hello")
    assert answer.upper() == "HELLO"
'''


def test_a_grader_fault_on_one_answer_charges_nobody_and_holds_no_class(
    toy: Path, tmp_path: Path
) -> None:
    """A grader that fails on one student's odd answer (an int has no .upper()) is the
    instructor's fault: everyone else is graded and written, that pair is left out (an empty
    cell, never a 0) and named, the run exits 3; fixed, it is graded on the next run."""
    graders = toy / "solutions" / "test_toy2.py"
    graders.write_text(ODD_ANSWER_BREAKS)
    subs = make_class(tmp_path / "subs", ["ann", "bob"])
    (subs / "odd").mkdir()
    (subs / "odd" / "toy2.py").write_text("def echo(text):\n    return 42\n")
    out = tmp_path / "out"
    code, stdout, stderr = grade(toy, subs, out, "--exercise", "toy2")
    assert code == 3
    assert "test_echo" in stderr and "odd/toy2.py" in stderr and "AttributeError" in stderr
    table = rows(out)
    assert table["ann"]["toy2"] == "1" and table["bob"]["toy2"] == "1"
    assert table["odd"]["toy2"] == ""
    assert json.loads((out / "_run.json").read_text())["grader_faults"]
    graders.write_text(HONEST_GRADER2)
    code, stdout, _ = grade(toy, subs, out, "--exercise", "toy2")
    assert code == 0 and rows(out)["odd"]["toy2"] == "0"
    assert "graded 3 submissions" in stdout  # the changed graders regrade everyone


HONEST_GRADER2 = '''
import pytest


@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_echo(student):
    """echo("hello") is "hello"."""
    assert student.echo("hello") == "hello"
'''
