"""The real server (`dlgrade serve`) killed with SIGKILL mid-exam and started again, on SQLite and on
PostgreSQL: every attempt continues, saved answers are all there, deadlines are unchanged, and
time that passed while it was down counts as passed."""

from __future__ import annotations

import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

pytest.importorskip("starlette")

import httpx  # noqa: E402
from serve_helpers import (  # noqa: E402
    StudentClient,
    issue_codes,
    make_exam,
    postgres_bin,
    postgres_cluster,
    start_server,
    stop,
)

from grader.serve.db import Database  # noqa: E402
from grader.serve.exam import load_exam  # noqa: E402

SECONDS = 12


def _items(database: str) -> dict[tuple[str, int], tuple]:
    db = Database(database)
    try:
        with db.read() as conn:
            out = {}
            for student in db.students(conn):
                attempt = db.attempt_of(conn, student["id"])
                if attempt is not None:
                    for r in db.items_of(conn, attempt.id):
                        out[(student["id"], r.position)] = (
                            r.qid,
                            r.status,
                            r.shown,
                            r.deadline,
                            r.choice,
                        )
            return out
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_server_killed_mid_exam_continues_every_attempt(tmp_path: Path, backend: str) -> None:
    if backend == "postgresql" and postgres_bin() is None:
        pytest.skip(
            "PostgreSQL is not installed (apt-get install postgresql): initdb and pg_ctl are missing"
        )
    cluster = postgres_cluster() if backend == "postgresql" else nullcontext(None)
    with cluster as url:
        path = make_exam(tmp_path, seconds=SECONDS, n=4, students=2, database=url)
        database = load_exam(path).database_url()
        codes = issue_codes(path)
        proc, base = start_server(path)
        port = int(base.rsplit(":", 1)[1])
        try:
            ann = StudentClient(httpx.Client(base_url=base, timeout=30, follow_redirects=True))
            bob = StudentClient(httpx.Client(base_url=base, timeout=30, follow_redirects=True))
            for student, sid in ((ann, "s001"), (bob, "s002")):
                assert student.sign_in(codes[sid]).status_code == 200
                assert student.start().status_code == 200
            assert ann.save(ann.question(), 0).status_code == 200
            assert ann.save(ann.question(), 2).status_code == 200
            ann_open = ann.question()
            bob_open = bob.question()
            before = _items(database)

            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            killed = time.time()
            time.sleep(2)
            proc, base = start_server(path, port=port)
            down = time.time() - killed

            after = _items(database)
            assert after == before, "every saved answer, status and deadline is as it was"
            assert [after[("s001", p)][4] for p in (0, 1)] == [0, 2]
            again = ann.question()  # the same cookie: sessions survive the restart
            assert again is not None and again.position == 2 and again.text == ann_open.text
            deadline = after[("s001", 2)][3]
            assert again.remaining == pytest.approx(deadline - time.time(), abs=1.0)
            assert again.remaining < SECONDS - down + 1.0, "the time it was down counted"
            assert ann.save(again, 1).status_code == 200
            assert _items(database)[("s001", 2)][4] == 1

            # Bob does nothing until his deadline has passed: the question closed on time
            time.sleep(max(0.0, after[("s002", 0)][3] - time.time()) + 0.5)
            r = bob.save(bob_open, 0)
            assert r.status_code == 409 and "time for this question was up" in r.text
            assert _items(database)[("s002", 0)][1] == "timed_out"
        finally:
            stop(proc)
