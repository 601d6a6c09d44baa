"""Load test of the exam server: simulated students on 127.0.0.1 sign in, start, and answer every
question, while the save latency is measured; then the database is compared with every save the
server acknowledged (zero lost, zero duplicated).

    python benchmarks/serve_load.py                       # 300 students x 20 questions, SQLite
    python benchmarks/serve_load.py --students 20 --questions 5 --think 0 0.2
    python benchmarks/serve_load.py --think 10 30 --out benchmarks/serve_load_paced.json
    python benchmarks/serve_load.py --database postgresql://postgres@127.0.0.1:5432/postgres

The server is a real `dlgrade serve` process on the course's own banks; the students are
httpx clients in one asyncio loop on the same machine (so they share its cores). The run
is bounded: at most --students x --questions saves, and --time-limit seconds, after which
it stops whatever is left. Results go to benchmarks/serve_load.json (not with --no-json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from serve_helpers import issue_codes, start_server, stop  # noqa: E402

FIELD = re.compile(r'name="(csrf|position|item)" value="([^"]*)"')
CHOICES = re.compile(r'<input type="radio" name="choice" value="(\d)"')


@dataclass
class Tally:
    save_latency: list[float] = field(default_factory=list)
    save_in_server: list[float] = field(default_factory=list)  # Server-Timing: the app's share
    page_latency: list[float] = field(default_factory=list)
    acknowledged: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    finished: int = 0


def make_exam(
    folder: Path, students: int, questions: int, seconds: float, database: str | None
) -> Path:
    roster = ["id,name,email"] + [
        f"L{i:04d},Load Student {i},l{i:04d}@example.edu" for i in range(students)
    ]
    (folder / "roster.csv").write_text("\n".join(roster) + "\n")
    exam = folder / "exam.yaml"
    exam.write_text(
        "title: Load test\nmode: exam\n"
        f"n: {questions}\nseconds_per_question: {seconds}\n"
        "opens: 2000-01-01 00:00\ncloses: 2099-01-01 00:00\nresults: never\n"
        f"roster: roster.csv\nbanks: {REPO / 'quizzes'}\n"
        + (f"database: {database}\n" if database else "")
    )
    return exam


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fields(html: str) -> dict[str, str]:
    return dict(FIELD.findall(html))


async def student(
    base: str,
    sid: str,
    code: str,
    questions: int,
    think: tuple[float, float],
    ramp: float,
    stop_at: float,
    tally: Tally,
    rng: random.Random,
) -> None:
    await asyncio.sleep(rng.uniform(0, ramp))
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        csrf = _fields((await http.get("/signin")).text)["csrf"]
        r = await http.post("/signin", data={"code": code, "csrf": csrf})
        if r.status_code != 303:
            tally.errors.append(f"{sid}: sign-in {r.status_code}")
            return
        csrf = _fields((await http.get("/signin")).text)["csrf"]
        await http.post("/exam/start", data={"csrf": csrf})
        for _ in range(questions):
            if time.monotonic() > stop_at:
                return
            t0 = time.perf_counter()
            page = await http.get("/exam")
            tally.page_latency.append(time.perf_counter() - t0)
            form = _fields(page.text)
            if "position" not in form:
                break
            letters = CHOICES.findall(page.text)
            await asyncio.sleep(rng.uniform(*think))
            letter = int(rng.choice(letters))
            position = int(form["position"])
            t0 = time.perf_counter()
            r = await http.post(
                "/exam/save",
                data={
                    "csrf": form["csrf"],
                    "position": form["position"],
                    "item": form["item"],
                    "choice": str(letter),
                    "action": "save",
                },
            )
            tally.save_latency.append(time.perf_counter() - t0)
            timing = r.headers.get("server-timing", "")
            if timing.startswith("app;dur="):
                tally.save_in_server.append(float(timing[len("app;dur=") :]) / 1000)
            if r.status_code == 303:
                tally.acknowledged.setdefault((sid, position), []).append(letter)
            else:
                tally.refused += 1
        page = await http.get("/exam")
        if "Finished" in page.text:
            tally.finished += 1


def check_database(exam_path: Path, tally: Tally) -> dict[str, int]:
    """Every acknowledged save is in the database with its letter (else lost); no question has
    two acknowledged saves or an answer nobody's save was acknowledged for (else duplicated)."""
    from grader.serve.db import Database
    from grader.serve.exam import load_exam

    exam = load_exam(exam_path)
    db = Database(exam.database_url())
    stored: dict[tuple[str, int], int] = {}
    with db.read() as conn:
        for s in db.students(conn):
            attempt = db.attempt_of(conn, s["id"])
            if attempt is None:
                continue
            for r in db.items_of(conn, attempt.id):
                if r.status == "answered":
                    stored[(s["id"], r.position)] = r.choice
    db.dispose()
    lost = sum(1 for key, letters in tally.acknowledged.items() if stored.get(key) != letters[0])
    duplicated = sum(len(v) - 1 for v in tally.acknowledged.values()) + sum(
        1 for key in stored if key not in tally.acknowledged
    )
    return {
        "acknowledged": len(tally.acknowledged),
        "stored": len(stored),
        "lost": lost,
        "duplicated": duplicated,
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run(
    students: int = 300,
    questions: int = 20,
    think: tuple[float, float] = (2.0, 6.0),
    ramp: float = 15.0,
    seconds: float = 120.0,
    time_limit: float = 900.0,
    database: str | None = None,
    seed: int = 1,
) -> dict:
    """One bounded load run against a fresh server; the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-load-") as tmp:
        exam = make_exam(Path(tmp), students, questions, seconds, database)
        codes = issue_codes(exam)
        proc, base = start_server(exam)
        tally = Tally()
        rng = random.Random(seed)
        load_before = os.getloadavg()[0]
        client_cpu = time.process_time()
        server_cpu = process_cpu(proc.pid)
        started = time.monotonic()
        try:

            async def main() -> None:
                stop_at = time.monotonic() + time_limit
                tasks = [
                    student(
                        base,
                        sid,
                        code,
                        questions,
                        think,
                        ramp,
                        stop_at,
                        tally,
                        random.Random(rng.random()),
                    )
                    for sid, code in codes.items()
                ]
                results = await asyncio.wait_for(
                    asyncio.gather(*tasks, return_exceptions=True), time_limit + 60
                )
                tally.errors += [
                    f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)
                ]

            asyncio.run(main())
        finally:
            server_cpu = process_cpu(proc.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            stop(proc)
        elapsed = time.monotonic() - started
        checked = check_database(exam, tally)
    ms = lambda v: round(v * 1000, 1)  # noqa: E731
    requests = len(tally.save_latency) + len(tally.page_latency)  # the start and sign-in aside
    return {
        "students": students,
        "questions": questions,
        "think_seconds": list(think),
        "database": "postgresql" if database and database.startswith("postgres") else "sqlite",
        "saves": len(tally.save_latency),
        "saves_refused": tally.refused,
        "finished": tally.finished,
        "errors": tally.errors[:10],
        "error_count": len(tally.errors),
        "save_ms": {
            "p50": ms(percentile(tally.save_latency, 50)),
            "p95": ms(percentile(tally.save_latency, 95)),
            "p99": ms(percentile(tally.save_latency, 99)),
            "max": ms(max(tally.save_latency, default=0)),
        },
        "save_in_server_ms": {  # the same saves, timed inside the server (Server-Timing)
            "p50": ms(percentile(tally.save_in_server, 50)),
            "p95": ms(percentile(tally.save_in_server, 95)),
            "p99": ms(percentile(tally.save_in_server, 99)),
        },
        "page_ms": {
            "p50": ms(percentile(tally.page_latency, 50)),
            "p95": ms(percentile(tally.page_latency, 95)),
            "p99": ms(percentile(tally.page_latency, 99)),
        },
        "saves_per_second": round(len(tally.save_latency) / elapsed, 1),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, requests), 2),
        "server_cpu_seconds": round(server_cpu, 1),
        "client_cpu_seconds": round(client_cpu, 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "total_seconds": round(elapsed, 1),
        **checked,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(2.0, 6.0),
        metavar=("MIN", "MAX"),
        help="seconds a student takes per question",
    )
    parser.add_argument(
        "--ramp", type=float, default=15.0, help="students arrive within this many seconds"
    )
    parser.add_argument(
        "--time-limit", type=float, default=900.0, help="stop after this many seconds"
    )
    parser.add_argument("--database", default=None, help="postgresql://... (default: SQLite)")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "serve_load.json",
        help="the JSON to write",
    )
    parser.add_argument("--no-json", action="store_true", help="write no JSON")
    args = parser.parse_args()
    result = run(
        args.students,
        args.questions,
        tuple(args.think),
        args.ramp,
        time_limit=args.time_limit,
        database=args.database,
    )
    print(json.dumps(result, indent=2))
    ok = result["lost"] == 0 and result["duplicated"] == 0 and result["error_count"] == 0
    print(
        f"{result['students']} students x {result['questions']} questions ({result['database']}): "
        f"save p50 {result['save_ms']['p50']} ms, p95 {result['save_ms']['p95']} ms, p99 {result['save_ms']['p99']} ms "
        f"(in the server: p95 {result['save_in_server_ms']['p95']} ms); "
        f"{result['lost']} lost, {result['duplicated']} duplicated; {result['total_seconds']} s"
        f" · p95 target < 100 ms: {'met' if result['save_ms']['p95'] < 100 else 'NOT met'}"
    )
    if not args.no_json:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
