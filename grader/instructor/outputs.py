"""What `dlgrade grade` writes, from the ledger alone: the same bytes on every run.

- ``grades.csv``: a row per student, a column per exercise (raw points), the total; with an
  assignment (``--assignment``), also the weighted total out of 100, when the student handed in,
  the days late, the late penalty and the grade.
- ``<student>.json``: the ``check --json`` objects of that student, one per exercise.
- ``gradescope/<student>/results.json``: Gradescope's results format.
- ``_run.json``: the run's side file (its isolation level, exercises, policy, notes); no student
  id starts with "_", so it never collides with a student's file.

Every exercise the ledger holds for the class is written, in course order, so grading one
exercise (``--exercise``) adds to what earlier runs graded instead of replacing it. Nothing holds
a time of the run or a temporary path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import Course
from grader.paths import write_atomically

if TYPE_CHECKING:
    from grader.instructor.assignment import Assignment
    from grader.sandbox.isolation import Isolation


@dataclass(frozen=True)
class Written:
    exercises: list[str]
    stale: int = 0


def points(x: float) -> str:
    return f"{x:g}"


def student_rows(
    results: dict[tuple[str, str], dict[str, Any]],
    students: list[str],
    exercises: list[str],
    policy: Assignment | None,
    times: dict[str, dt.datetime | None],
) -> tuple[list[str], list[list[str]]]:
    """The header and rows of grades.csv."""
    header = ["student", *exercises, "total"]
    if policy is not None:
        header += ["weighted", "submitted", "late_days", "late_penalty_percent", "grade"]
    rows = []
    for student in students:
        scores = {e: results[(student, e)]["score"] for e in exercises if (student, e) in results}
        # an empty cell: not graded (its grader failed on it; see _run.json), never a 0
        row = [student, *(points(scores[e]) if e in scores else "" for e in exercises)]
        row.append(points(sum(scores.values())))
        if policy is not None:
            weighted = weighted_total(results, student, policy)
            submitted = times.get(student)
            due = policy.due_for(student)
            days = policy.late.late_days(submitted, due) if submitted and due else 0
            penalty = policy.late.penalty(days)
            grade = weighted * (1 - penalty / 100)
            row += [
                f"{weighted:.2f}",
                submitted.isoformat(sep=" ", timespec="minutes") if submitted else "",
                str(days),
                points(penalty),
                f"{grade:.2f}",
            ]
        rows.append(row)
    return header, rows


def weighted_total(
    results: dict[tuple[str, str], dict[str, Any]], student: str, policy: Assignment
) -> float:
    """The student's grade out of 100: each exercise's share of its points, by its weight."""
    total_weight = sum(policy.weights.values())
    grade = 0.0
    for exercise, weight in policy.weights.items():
        result = results.get((student, exercise))
        if result and result["max_score"]:
            grade += 100 * weight / total_weight * result["score"] / result["max_score"]
    return grade


def write_outputs(
    results: dict[tuple[str, str], dict[str, Any]],
    students: list[str],
    course: Course,
    out: Path,
    isolation: Isolation,
    policy: Assignment | None = None,
    times: dict[str, dt.datetime | None] | None = None,
    notes: list[str] | None = None,
) -> Written:
    """Writes every output file of the class (students: those in the submissions folder)."""
    students = sorted(set(students))
    present = {e for (s, e) in results if s in students}
    exercises = [e for e in course.exercises if e in present]
    if policy is not None:
        exercises = [e for e in exercises if e in policy.weights] or exercises
    header, rows = student_rows(results, students, exercises, policy, times or {})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    for student in students:
        mine = [results[(student, e)] for e in exercises if (student, e) in results]
        public = [dict(r) for r in mine]
        for r in public:
            r["tests"] = [
                {k: t[k] for k in ("name", "score", "max_score", "status", "message", "hint")}
                for t in r["tests"]
            ]
        write_atomically(
            out / f"{student}.json", json.dumps(public, indent=2, sort_keys=True) + "\n"
        )
        gradescope = gradescope_results(mine)
        gradescope["output"] = f"sandbox: {isolation.describe()}"
        write_atomically(
            out / "gradescope" / student / "results.json",
            json.dumps(gradescope, indent=2) + "\n",
        )
    write_atomically(out / "grades.csv", buffer.getvalue())
    run: dict[str, Any] = {
        "isolation": isolation.to_json(),
        "exercises": exercises,
        "students": len(students),
        "notes": sorted(set(notes or [])),
    }
    if policy is not None:
        run["assignment"] = {
            "title": policy.title,
            "weights": policy.weights,
            "due": policy.due.isoformat(sep=" ") if policy.due else None,
            "late": {
                "penalty_per_day": policy.late.penalty_per_day,
                "zero_after_days": policy.late.zero_after_days,
                "grace_minutes": policy.late.grace_minutes,
            },
            "extensions": {s: d.isoformat(sep=" ") for s, d in sorted(policy.extensions.items())},
        }
    write_atomically(out / "_run.json", json.dumps(run, indent=2, sort_keys=True) + "\n")
    return Written(exercises)


def gradescope_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Gradescope's results.json: hidden tests become visible once grades are published."""
    tests = []
    for r in results:
        for t in r["tests"]:
            lines = [t["message"]] if t["message"] else []
            if t.get("hint"):
                lines.append(f"hint: {t['hint']}")
            if t.get("output"):
                lines.append("output:\n" + t["output"])
            tests.append(
                {
                    "name": f"{r['exercise']}: {t['name']}",
                    "score": t["score"],
                    "max_score": t["max_score"],
                    "status": "passed" if t["status"] == "passed" else "failed",
                    "output": "\n".join(lines) or "passed",
                    "visibility": "after_published" if t.get("hidden") else "visible",
                }
            )
    return {"score": sum(t["score"] for t in tests), "tests": tests, "visibility": "visible"}
