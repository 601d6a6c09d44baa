"""Gradescope: the autograder bundle (`dlgrade gradescope build`) and what runs inside it
(`dlgrade gradescope run`, called by the bundle's run_autograder).

Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build
the image, then run_autograder for every submission, with the student's files in
/autograder/submission and the result expected in /autograder/results/results.json.
"""

from __future__ import annotations

import json
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from grader.course import Course
from grader.errors import GraderError, UserError
from grader.generate.pipeline import require_generated
from grader.instructor.assignment import Assignment, _copy_package
from grader.instructor.secret import SECRET_FILE, class_secret

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image.
set -euo pipefail
apt-get update -q && apt-get install -y -q bubblewrap python3-pip python3-venv || true
cd /autograder/source
python3 -m venv /autograder/venv
. /autograder/venv/bin/activate
pip install --upgrade pip
pip install torch --index-url https://download.pytorch.org/whl/cpu
pip install -e .
# the uid isolation level (where Gradescope's container forbids bubblewrap): the course and the
# forbidden packages unreadable to the submission's uid
dlgrade sandbox lockdown
chmod 700 /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT moves /autograder (for tests).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
if [ -f "$ROOT/venv/bin/activate" ]; then . "$ROOT/venv/bin/activate"; fi
cd "$ROOT/source"
mkdir -p "$ROOT/results"
exec dlgrade --course "$ROOT/source" gradescope run assignment.yaml \\
    --submission "$ROOT/submission" --results "$ROOT/results/results.json" \\
    --metadata "$ROOT/submission_metadata.json"
"""


def build(a: Assignment, course: Course, out: Path) -> list[str]:
    """Writes the autograder zip; returns its member names."""
    if not course.has_solutions:
        raise UserError(
            "the autograder needs the instructor's solutions/ folder (the hidden tests)"
        )
    require_generated(course, a.exercises)  # the stubs and public tests it ships are checked
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "solutions").mkdir()
        (root / "exercises").mkdir()
        for e in a.exercises:
            for src in (
                course.solution(e),
                course.solution_tests(e),
                course.solutions_dir / f"mistakes_{e}.py",
            ):
                if src.is_file():
                    shutil.copy(src, root / "solutions" / src.name)
            for src in (course.stub(e), course.public_tests(e)):
                shutil.copy(src, root / "exercises" / src.name)
        secret = class_secret(course)  # the run seeds as `dlgrade grade` does: same grades
        (root / "solutions" / SECRET_FILE).write_text(secret + "\n", encoding="ascii")
        (root / "course.yaml").write_text(
            json.dumps(
                {"title": a.title, "exercises": a.exercises, "time_budget": course.time_budget}
            ),
            encoding="utf-8",
        )
        shutil.copy(a.path, root / "assignment.yaml")
        _copy_package(root)
        (root / "README.md").write_text(f"# {a.title}: Gradescope autograder\n", encoding="utf-8")
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            path = root / name
            path.write_text(text, encoding="utf-8")
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        out.parent.mkdir(parents=True, exist_ok=True)
        names = []
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    name = str(path.relative_to(root))
                    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                    info.external_attr = (path.stat().st_mode & 0o777) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, path.read_bytes())
                    names.append(name)
    return names


def student_id(metadata: Path) -> str:
    """A stable id from Gradescope's submission_metadata.json (the first user), for the seed."""
    try:
        data = json.loads(metadata.read_text(encoding="utf-8"))
        user = data["users"][0]
        return str(user.get("sid") or user.get("email") or user.get("name") or "gradescope")
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return "gradescope"


def run(
    a: Assignment,
    course: Course,
    submission: Path,
    results: Path,
    metadata: Path,
    trusted: bool = False,
) -> dict[str, Any]:
    """Grades one Gradescope submission into results.json, each exercise scaled to its weight
    (the weights of the assignment add up to 100 points). One student per run: the ``uid``
    isolation level is enough; below it the run is refused unless ``trusted``."""
    from grader.instructor.grade import grade_file, missing_result
    from grader.instructor.notebooks import solution_module_from
    from grader.instructor.outputs import gradescope_results
    from grader.instructor.submissions import find
    from grader.sandbox.isolation import detect, require

    isolation = detect((course.solutions_dir, results.parent.resolve()))
    require(isolation, "uid", "a Gradescope run", trusted)
    secret = class_secret(course, create=False)
    who = student_id(metadata)
    total_weight = sum(a.weights.values())
    exercise_results = []
    notes: list[str] = [f"sandbox: {isolation.describe()}"]
    with tempfile.TemporaryDirectory(prefix="dlgrade-staged-") as tmp:
        for exercise, weight in a.weights.items():
            # the same safe reading as a class: regular files only, near misses said
            others = frozenset(f"{e}.{x}" for e in course.exercises for x in ("py", "ipynb"))
            found = find(submission.parent, submission.name, exercise, others=others)
            notes += list(found.notes)
            shown = found.shown_as.split("/", 1)[-1]
            if found.content is None:
                reason = (found.problem or "").replace(f"{submission.name}/", "")
                reason = reason.replace(f" in the submission of {submission.name}", "")
                data = missing_result(course, exercise, reason or "nothing to grade")
                notes.append(f"{exercise}: {data['tests'][0]['message']}")
            else:
                content = found.content
                if found.kind == "ipynb":
                    content = solution_module_from(content, shown).encode()
                staged = Path(tmp) / f"{exercise}.py"
                staged.write_bytes(content)
                data, run_notes = grade_file(
                    course, exercise, staged, who, isolation, secret=secret, shown_as=shown
                )
                broken = [t for t in data["tests"] if t["status"] == "grader_error"]
                if broken:  # the instructor's problem: never charged to the student
                    raise GraderError(
                        f"{exercise}, {broken[0]['name']}: the grader's own code failed: "
                        f"{broken[0]['message']}"
                    )
                notes += run_notes
            full = sum(t["max_score"] for t in data["tests"]) or 1.0
            scale = 100.0 * weight / total_weight / full
            for t in data["tests"]:
                t["score"] *= scale
                t["max_score"] *= scale
            exercise_results.append(data)
    out = gradescope_results(exercise_results)
    out["score"] = round(out["score"], 4)  # the sum of the exact scores, then rounded
    for t in out["tests"]:
        t["score"], t["max_score"] = round(t["score"], 4), round(t["max_score"], 4)
    out["output"] = "\n".join(notes)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out
