"""`dlgrade report DIR --out report.html`: what an instructor reads after a deadline.

From the results of `dlgrade grade` (DIR/grading.sqlite): the distribution of
totals and of each exercise (histograms, matplotlib), the tests most often
failed, and the mistakes most often named. One self-contained HTML file (the
figures are embedded), so it can be mailed or put on a course page as it is.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from grader.errors import UserError


def _histogram(values: list[float], title: str, maximum: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2.6), dpi=100)
    bins = min(20, max(5, len(set(values))))
    ax.hist(values, bins=bins, range=(0, maximum or 1), color="#4477aa", edgecolor="white")
    ax.set_title(title)
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


PROBLEMS = (  # what the per-student table names, by the words of the results' messages
    ("timeout", "timeouts"),
    ("syntax error", "syntax error"),
    ("is not allowed", "forbidden import"),
    ("grader_error", "grader error"),
    ("no file ", "missing file"),
    ("only regular files", "not a regular file"),
    ("stopped the grading process", "ended its grading process"),
)


def _problems(result: dict[str, Any]) -> list[str]:
    """The kinds of trouble a student's result shows (beyond wrong answers)."""
    found = []
    for needle, label in PROBLEMS:
        for t in result["tests"]:
            text = t["status"] if needle in ("timeout", "grader_error") else t.get("message", "")
            if needle in text:
                found.append(label)
                break
    return found


def build_report(
    results: dict[tuple[str, str], dict[str, Any]],
    title: str = "Grade report",
    order: list[str] | None = None,
) -> str:
    if not results:
        raise UserError("no graded submissions to report on (run dlgrade grade first)")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError("the report draws with matplotlib: pip install -e '.[plot]'") from None
    students = sorted({s for s, _ in results})
    present = {e for _, e in results}
    exercises = [e for e in (order or []) if e in present]
    exercises += sorted(present - set(exercises))  # course order first, then any other
    max_of = {e: next(r["max_score"] for (s, x), r in results.items() if x == e) for e in exercises}
    totals = [
        sum(results[(s, e)]["score"] for e in exercises if (s, e) in results) for s in students
    ]
    grand = sum(max_of.values())
    levels = sorted({str(r.get("isolation") or "unknown") for r in results.values()})
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(students)} students, {len(exercises)} exercises, {grand:g} points in all. "
        f"Median total {statistics.median(totals):g}, mean {statistics.mean(totals):.1f}.</p>",
        f"<p>Sandbox isolation level: {html.escape(', '.join(levels))}.</p>",
        f'<img alt="totals" src="data:image/png;base64,{_histogram(totals, "totals", grand)}">',
    ]
    summary_rows = []
    for e in exercises:
        scores = [results[(s, e)]["score"] for s in students if (s, e) in results]
        full = sum(1 for x in scores if x == max_of[e])
        summary_rows.append(
            [
                e,
                f"{max_of[e]:g}",
                f"{statistics.median(scores):g}",
                f"{statistics.mean(scores):.1f}",
                f"{full}/{len(scores)}",
            ]
        )
    parts += [
        "<h2>Exercises</h2>",
        _table(["exercise", "points", "median", "mean", "full marks"], summary_rows),
    ]
    parts.append("<div>")
    for e in exercises:
        scores = [results[(s, e)]["score"] for s in students if (s, e) in results]
        parts.append(
            f'<img alt="{html.escape(e)}" src="data:image/png;base64,{_histogram(scores, e, max_of[e])}">'
        )
    parts.append("</div>")
    failed: Counter[tuple[str, str]] = Counter()
    hints: Counter[tuple[str, str]] = Counter()  # students whose results name the mistake
    for (_, e), r in results.items():
        for t in r["tests"]:
            if t["status"] != "passed":
                failed[(e, t["name"])] += 1
        for hint in {t["hint"] for t in r["tests"] if t.get("hint")}:
            hints[(e, hint)] += 1
    n = len(students)
    parts += [
        "<h2>Tests most often failed</h2>",
        _table(
            ["exercise", "test", "students failing", "share"],
            [[e, t, c, f"{c / n:.0%}"] for (e, t), c in failed.most_common(15)],
        ),
        "<h2>Mistakes most often named</h2>",
        _table(
            ["exercise", "mistake (the hint students read)", "students"],
            [[e, h, c] for (e, h), c in hints.most_common(15)],
        )
        if hints
        else "<p>No known mistake was named.</p>",
        "<h2>Students</h2>",
        _table(
            ["student", *exercises, "total", "problems"],
            [
                [
                    s,
                    *(
                        f"{results[(s, e)]['score']:g}" if (s, e) in results else "-"
                        for e in exercises
                    ),
                    f"{sum(results[(s, e)]['score'] for e in exercises if (s, e) in results):g}",
                    "; ".join(
                        f"{e}: {', '.join(p)}"
                        for e in exercises
                        if (s, e) in results and (p := _problems(results[(s, e)]))
                    )
                    or "-",
                ]
                for s in students
            ],
        ),
    ]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "th{background:#f0f0f0}img{margin:4px}"
    )
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n"


def write_report(grades_dir: Path, out: Path) -> None:
    from grader.instructor.ledger import Ledger

    db = grades_dir / "grading.sqlite"
    if not db.is_file():
        raise UserError(
            f"{grades_dir} has no grading results (expected {db}; run dlgrade grade first)"
        )
    ledger = Ledger(db)
    try:
        results = ledger.results()
    finally:
        ledger.close()
    order: list[str] = []
    run = grades_dir / "_run.json"
    if run.is_file():
        import json

        order = list(json.loads(run.read_text(encoding="utf-8")).get("exercises", []))
    out.write_text(build_report(results, order=order), encoding="utf-8")
