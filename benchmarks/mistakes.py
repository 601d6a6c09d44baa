"""What every registered mistake costs at every seed, what trivial answers score, and the blind set.

    python benchmarks/mistakes.py                      # seeds 1-20, every core: the tables of issue 18
    python benchmarks/mistakes.py --seeds 1-5 --only blind
    python benchmarks/mistakes.py --json out.json

The tests (tests/test_mistakes.py, test_trivial.py, test_blind.py) check the same figures
on the seeds of $DLGRADE_SEEDS (three a day by default, all twenty within a week); this runs all of them, in parallel.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import sweeps  # noqa: E402


def _mistake_job(job: tuple[str, str, int]) -> dict:
    exercise, name, seed = job
    m = next(m for m in sweeps.registry(exercise).all() if m.name == name)
    with tempfile.TemporaryDirectory() as tmp:
        lost, result = sweeps.mistake_result(exercise, m, seed, Path(tmp))
    tests = result.tests if result else []
    return {
        "exercise": exercise,
        "mistake": name,
        "seed": seed,
        "lost": lost,
        "max_score": sweeps.total_points(exercise),
        "named": any(t.hint == m.hint for t in tests),
        "failed": [t.name for t in tests if t.status != "passed"],
    }


def _trivial_job(job: tuple[str, str, int]) -> dict:
    exercise, kind, seed = job
    with tempfile.TemporaryDirectory() as tmp:
        result = sweeps.grade(exercise, sweeps.trivial_submission(exercise, kind, Path(tmp)), seed)
    return {
        "exercise": exercise,
        "kind": kind,
        "seed": seed,
        "score": result.score,
        "passed": [t.name for t in result.tests if t.status == "passed"],
    }


def _blind_job(job: tuple[str, int]) -> dict:
    import blind

    entry_id, seed = job
    return blind.measure(blind.entry(entry_id), seed)


def run_all(pool: ProcessPoolExecutor, function, jobs: list) -> list[dict]:
    """Every job, in any order, with a progress count on stderr."""
    futures = [pool.submit(function, job) for job in jobs]
    rows = []
    for done, future in enumerate(as_completed(futures), 1):
        rows.append(future.result())
        if done % 25 == 0 or done == len(jobs):
            print(f"\r{function.__name__.strip('_')}: {done}/{len(jobs)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return rows


def mistake_costs(seeds: list[int], pool: ProcessPoolExecutor) -> list[dict]:
    jobs = [
        (exercise, m.name, seed)
        for exercise in sweeps.COURSE.exercises
        for m in sweeps.registry(exercise).all()
        for seed in seeds
    ]
    rows = run_all(pool, _mistake_job, jobs)
    table: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["exercise"], row["mistake"])
        entry = table.setdefault(
            key,
            {
                "exercise": row["exercise"],
                "mistake": row["mistake"],
                "max_score": row["max_score"],
                "min_lost": row["lost"],
                "worst_seed": row["seed"],
                "unnamed_seeds": [],
            },
        )
        if row["lost"] < entry["min_lost"]:
            entry["min_lost"], entry["worst_seed"] = row["lost"], row["seed"]
        if not row["named"]:
            entry["unnamed_seeds"].append(row["seed"])
    out = []
    for entry in sorted(
        table.values(), key=lambda e: (sweeps.COURSE.exercises.index(e["exercise"]), e["mistake"])
    ):
        entry["threshold"] = sweeps.threshold(entry["max_score"])
        entry["ok"] = entry["min_lost"] >= entry["threshold"] and not entry["unnamed_seeds"]
        out.append(entry)
    return out


def trivial_scores(seeds: list[int], pool: ProcessPoolExecutor) -> list[dict]:
    jobs = [
        (exercise, kind, seed)
        for exercise in sweeps.COURSE.exercises
        for kind in sweeps.TRIVIAL_KINDS
        for seed in seeds
    ]
    return [row for row in run_all(pool, _trivial_job, jobs) if row["score"] > 0]


def blind_figures(seeds: list[int], pool: ProcessPoolExecutor) -> dict:
    import blind

    jobs = [(e.id, seed) for e in blind.entries() for seed in seeds]
    return blind.summarise(run_all(pool, _blind_job, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--only", choices=["mistakes", "trivial", "blind"], action="append")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    seeds = sweeps.seeds(args.seeds)
    parts = args.only or ["mistakes", "trivial", "blind"]
    report: dict = {"seeds": seeds}
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        if "mistakes" in parts:
            rows = mistake_costs(seeds, pool)
            report["mistakes"] = rows
            print(f"{'exercise':<11}{'mistake':<52}{'min lost':>9}{'needed':>8}  seed  named")
            for r in rows:
                flag = "" if r["ok"] else "   <-- short"
                unnamed = ",".join(map(str, r["unnamed_seeds"])) or "all"
                if r["unnamed_seeds"]:
                    unnamed = "not at " + unnamed
                print(
                    f"{r['exercise']:<11}{r['mistake']:<52}{r['min_lost']:>9g}{r['threshold']:>8.2f}"
                    f"  {r['worst_seed']:>4}  {unnamed}{flag}"
                )
        if "trivial" in parts:
            rows = trivial_scores(seeds, pool)
            report["trivial"] = rows
            print(f"trivial answers scoring above 0: {len(rows)}")
            for r in rows:
                print(
                    f"  {r['exercise']} {r['kind']} seed {r['seed']}: {r['score']:g} {r['passed']}"
                )
        if "blind" in parts:
            import blind

            if blind.available():
                figures = blind_figures(seeds[:5] if args.seeds == "1-20" else seeds, pool)
                report["blind"] = figures
                blind.print_summary(figures)
            else:
                print("blind set: tests/blind/manifest.yaml is missing")
    print(f"({time.perf_counter() - start:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
