"""The course on nbgrader, with nbgrader itself: export, generate_assignment, autograde; the
release notebook holds no solution, no hidden test and no path of the instructor's machine;
nbgrader's scores equal `dlgrade check --hidden`; `dlgrade grade` on the submitted notebooks and
`dlgrade nbgrader import-grades` put the same scores into nbgrader's gradebook, and there the
kernel attack that fools `nbgrader autograde` scores 0."""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from edit_source import replace_functions
from test_notebooks import ATTACKS, _stub_code
from test_release import leaks_in

from grader.cli import cli
from grader.course import Course
from grader.engine.runner import check, collect_graders
from grader.engine.seeding import seed_for_student
from grader.instructor.nbgrader_export import CONFIG, export

STUDENT = "nb-student"


def _nbgrader(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DLGRADE_STUDENT": STUDENT, "PYTHONPATH": str(REPO)}
    env.pop("DLGRADE_COURSE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _code(nb: dict) -> str:
    [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    return "".join(cell["source"])


def _submit(release: dict, root: Path, student: str, code: str | None) -> Path:
    nb = copy.deepcopy(release)
    if code is not None:
        [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
        cell["source"] = code.splitlines(keepends=True)
    folder = root / "submitted" / student / "ps1"
    folder.mkdir(parents=True)
    (folder / "softmax.ipynb").write_text(json.dumps(nb))
    return folder / "softmax.ipynb"


def _gradebook_scores(database: Path, students: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per student: the notebook's score and each grade cell's, from nbgrader's own API."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{database}") as gb:
        for s in students:
            nb = gb.find_submission_notebook("softmax", "ps1", s)
            out[s] = {"total": nb.score} | {g.name: g.score for g in nb.grades}
    return out


def test_nbgrader_round_trip(course: Course, tmp_path: Path) -> None:
    root = tmp_path / "nbcourse"
    written = export(course, root, "ps1", ["softmax"])
    for path in written:  # portable: nothing of the instructor's machine
        text = path.read_text()
        assert str(REPO) not in text and str(tmp_path) not in text and "/home/" not in text, path
    _nbgrader(["generate_assignment", "ps1"], root)
    released = root / "release" / "ps1"
    assert (released / "graders" / "exercises" / "test_softmax.py").is_file()
    assert not (released / "graders" / "solutions").exists()
    assert leaks_in(released, course) == []  # the notebook's code cells and the public graders

    release = json.loads((released / "softmax.ipynb").read_text())
    raw = (released / "softmax.ipynb").read_text()
    graders = collect_graders(course.solution_tests("softmax"), "softmax")
    hidden = [t for t in graders if t.hidden]
    assert hidden and not any(t.name in raw for t in hidden)  # no name, in source or metadata
    assert "HIDDEN TESTS" not in raw and "BEGIN SOLUTION" not in raw
    points = sum(t.max_score for t in hidden)
    hidden_cells = [c for c in release["cells"] if "hidden tests" in "".join(c["source"])]
    assert ["".join(c["source"]).strip() for c in hidden_cells] == [
        f"# hidden tests: {points:g} points"
    ]
    meta = hidden_cells[0]["metadata"]["nbgrader"]
    assert (meta["grade_id"], meta["points"]) == ("softmax-hidden", points)
    text = "\n".join("".join(c["source"]) for c in release["cells"])
    assert text.count("run_test(") == len(graders) - len(hidden)

    source = json.loads((root / "source" / "ps1" / "softmax.ipynb").read_text())
    reference = _code(source)
    wrong = replace_functions(
        reference,
        softmax="""
        def softmax(z, axis=-1):
            e = np.exp(z - z.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
        """,
    )
    _submit(release, root, "ref", reference)
    _submit(release, root, "stub", None)
    _submit(release, root, "mistake", wrong)
    _submit(release, root, "mistake2", wrong)
    # the attacker claims the hidden cell's points, which the release notebook shows
    attack = ATTACKS["redefines_run_test"].replace("return 11.0", f"return {float(points)!r}")
    assert attack != ATTACKS["redefines_run_test"]
    _submit(release, root, "attacker", _stub_code(course, "softmax") + attack)
    students = ("ref", "stub", "mistake", "mistake2", "attacker")
    fresh = root / "fresh-gradebook.db"  # as generate_assignment left it: nothing autograded
    shutil.copy(root / "gradebook.db", fresh)

    _nbgrader(["autograde", "ps1", "--create"], root)  # with DLGRADE_STUDENT set: overridden
    nbgrader = _gradebook_scores(root / "gradebook.db", students)
    maximum = sum(t.max_score for t in graders)
    mistake_file = tmp_path / "softmax.py"
    mistake_file.write_text(wrong)
    expected = {"ref": maximum, "stub": 0.0, "attacker": 0.0}
    from grader.instructor.secret import class_secret

    for student in ("mistake", "mistake2"):  # seeded by id and class secret, as `dlgrade grade`
        seed = seed_for_student(student, class_secret(course))
        result = check(course, "softmax", path=mistake_file, hidden=True, seed=seed)
        expected[student] = result.score
        assert 0 < result.score < maximum
    for student in ("ref", "stub", "mistake", "mistake2"):
        assert nbgrader[student]["total"] == expected[student], student
    # the kernel attack fools nbgrader autograde (README says so): full marks for a stub
    assert nbgrader["attacker"]["total"] == maximum

    # the safe path: dlgrade grade on the same notebooks, then the gradebook through nbgrader's API
    grades = tmp_path / "grades"
    graded = CliRunner().invoke(
        cli,
        ["--course", str(REPO), "grade", str(root / "submitted"), "--out", str(grades)]
        + ["--assignment", "ps1", "--exercise", "softmax"],
    )
    assert graded.exit_code == 0, graded.output
    with (grades / "grades.csv").open() as f:
        ours = {row["student"]: float(row["softmax"]) for row in csv.DictReader(f)}
    assert ours == expected
    for database in (fresh, root / "gradebook.db"):
        imported = CliRunner().invoke(
            cli,
            ["nbgrader", "import-grades", str(grades), "--course", str(root)]
            + ["--assignment", "ps1", "--db", f"sqlite:///{database}"],
        )
        assert imported.exit_code == 0, imported.output
        assert "5 notebooks of 5 students" in imported.output
        book = _gradebook_scores(database, students)
        assert {s: book[s]["total"] for s in students} == expected
        for student in students:
            results = json.loads((grades / f"{student}.json").read_text())[0]["tests"]
            hidden_names = {t.name for t in hidden}
            assert book[student]["softmax-hidden"] == sum(
                t["score"] for t in results if t["name"] in hidden_names
            )
            for t in results:
                if t["name"] not in hidden_names:
                    assert book[student][f"softmax-{t['name']}"] == t["score"]


def test_import_grades_needs_the_assignment_in_the_gradebook(tmp_path: Path) -> None:
    grades = tmp_path / "grades"
    grades.mkdir()
    (grades / "grades.csv").write_text("student,softmax,total\nann,0,0\n")
    (grades / "ann.json").write_text(json.dumps([{"exercise": "softmax", "tests": []}]))
    result = CliRunner().invoke(
        cli,
        ["nbgrader", "import-grades", str(grades), "--course", str(tmp_path / "nb")]
        + ["--assignment", "ps1"],
    )
    assert result.exit_code == 2 and "run nbgrader generate_assignment ps1" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_export_writes_to_out_and_still_takes_the_old_course_option(tmp_path: Path) -> None:
    """`nbgrader export --out FOLDER` writes the nbgrader course; the old name of the option,
    --course (which elsewhere means the dlgrade course), still works and says, in one line on
    stderr, to use --out."""
    base = ["--course", str(REPO), "nbgrader", "export", "--exercise", "softmax"]
    new = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "new")])
    assert new.exit_code == 0, new.output
    assert "deprecated" not in new.stderr
    old = CliRunner().invoke(cli, [*base, "--course", str(tmp_path / "old")])
    assert old.exit_code == 0, old.output
    assert old.stderr.splitlines() == ["dlgrade: nbgrader export --course is deprecated: use --out"]
    written = sorted(p.relative_to(tmp_path / "new") for p in (tmp_path / "new").rglob("*"))
    assert written == sorted(p.relative_to(tmp_path / "old") for p in (tmp_path / "old").rglob("*"))
    missing = CliRunner().invoke(cli, ["--course", str(REPO), "nbgrader", "export"])
    assert missing.exit_code == 2 and "--out" in missing.output


def _execute(nb: dict, folder: Path) -> dict:
    """Runs a notebook in ``folder`` as Jupyter would (its kernel's working directory)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    node = nbformat.reads(json.dumps(nb), as_version=4)
    env_backup = os.environ.pop("DLGRADE_COURSE", None)
    try:
        nbclient.NotebookClient(
            node, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}
        ).execute()
    finally:
        if env_backup is not None:
            os.environ["DLGRADE_COURSE"] = env_backup
    return node


def test_a_release_notebook_runs_where_its_graders_travel_and_says_one_line_without_them(
    course: Course, tmp_path: Path
) -> None:
    root = tmp_path / "nbcourse"
    export(course, root, "ps1", ["softmax"])
    source = json.loads((root / "source" / "ps1" / "softmax.ipynb").read_text())
    student = tmp_path / "student" / "ps1"  # what a student unpacks: notebooks and graders/
    shutil.copytree(root / "source" / "ps1" / "graders", student / "graders")
    nb = copy.deepcopy(source)
    for cell in nb["cells"]:
        if "### BEGIN HIDDEN TESTS" in "".join(cell["source"]):
            cell["source"] = ["# hidden tests"]
    ran = _execute(nb, student)
    tests = [c for c in ran.cells if "run_test(" in "".join(c.source)]
    for cell in tests:
        assert all(o["output_type"] == "stream" for o in cell.outputs), cell.outputs
        assert ": passed (" in "".join(o["text"] for o in cell.outputs)
    assert tests

    _solution = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    _solution["source"] = _stub_code(course, "softmax").splitlines(keepends=True)
    failing = _execute(nb, student)
    errors = [o for c in failing.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and all(len(o["traceback"]) == 1 for o in errors)  # the message, no traceback
    assert "not written yet" in errors[0]["traceback"][0]

    elsewhere = tmp_path / "no-course"
    elsewhere.mkdir()
    lost = _execute(nb, elsewhere)
    errors = [o for c in lost.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and all(
        o["traceback"] == [errors[0]["traceback"][0]]
        and "no dlgrade course found" in o["traceback"][0]
        for o in errors
    )


def test_the_nbgrader_hook_seeds_by_the_graded_students_id(monkeypatch) -> None:
    from grader.engine.seeding import default_seed
    from grader.notebook import nbgrader_student_hook

    monkeypatch.setenv("DLGRADE_STUDENT", "the-instructor")
    nbgrader_student_hook(
        assignment="ps1", student="*", notebooks=["/c/submitted/ann/ps1/softmax.ipynb"]
    )
    assert os.environ["DLGRADE_STUDENT"] == "ann"
    assert default_seed() == seed_for_student("ann")  # no course there: by id alone
    assert 'pre_convert_hook = "grader.notebook.nbgrader_student_hook"' in CONFIG


def test_the_nbgrader_hook_seeds_with_the_class_secret_of_the_exported_graders(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exported nbgrader course carries the class secret in its graders/ (the instructor's
    folder), so autograde's inputs are the ones `dlgrade grade` gives the same student."""
    from grader.engine.seeding import default_seed
    from grader.instructor.nbgrader_export import export
    from grader.instructor.secret import class_secret
    from grader.notebook import nbgrader_student_hook

    root = tmp_path / "nb"
    export(course, root, "ps1", ["softmax"])
    assert not list((root / "source").rglob(".class-secret"))  # never in what is released
    monkeypatch.delenv("DLGRADE_SEED", raising=False)
    nbgrader_student_hook(notebooks=[str(root / "submitted" / "ann" / "ps1" / "softmax.ipynb")])
    assert default_seed() == seed_for_student("ann", class_secret(course))
    assert default_seed() != seed_for_student("ann")


def test_the_test_cells_find_the_instructors_graders_from_an_nbgrader_folder(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Autograding runs in autograded/<student>/<assignment>/, where the student's own graders/
    copy (public, and theirs to change) lies nearer than the instructor's: the outermost
    nbgrader course's graders/ is the one used."""
    from grader.notebook import find_course

    root = tmp_path / "nbcourse"
    export(course, root, "ps1", ["softmax"])
    folder = root / "autograded" / "ann" / "ps1"
    shutil.copytree(root / "graders", folder / "graders")  # a full set the student handed in
    (folder / "nbgrader_config.py").write_text("c = get_config()\n")
    assert find_course(folder).root == (root / "graders").resolve()
    public = root / "source" / "ps1"
    assert find_course(public).root == (root / "graders").resolve()  # the instructor's, too
    student = tmp_path / "home" / "ps1"  # a student's copy of the release: the public graders
    shutil.copytree(public / "graders", student / "graders")
    assert find_course(student).root == (student / "graders").resolve()
    assert not find_course(student).has_solutions
    monkeypatch.setenv("DLGRADE_COURSE", str(tmp_path / "nowhere"))
    with pytest.raises(Exception, match="is not a dlgrade course"):
        find_course(folder)
