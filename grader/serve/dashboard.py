"""The instructor's dashboard: the class live, results and item analysis, each student's review,
grace for an outage, new codes, gradebook CSVs, and the review of students' questions.

Every handler starts with ``server.instructor(request)``: a student's session gets 403.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from grader.gradebook import FORMATS, gradebook_csv
from grader.serve import auth, proposals, results

if TYPE_CHECKING:
    from grader.serve.app import Server

MAX_GRACE = 3600.0
DROPPED_AFTER = 30.0  # seconds without a request while a question is open: shown as dropped
QID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def dashboard_routes(s: Server) -> list[Route]:  # noqa: C901 (one flat list of small handlers)
    db, exam = s.db, s.exam

    async def live(request: Request) -> Response:
        s.instructor(request)

        def work() -> dict[str, Any]:
            with db.read() as conn:
                rows = db.overview(conn)
                now = s.clock()
                for r in rows:
                    r["state"] = _state(r, exam.n)
                    r["dropped"] = (
                        r["state"] == "in progress"
                        and r["last_seen"] is not None
                        and now - r["last_seen"] > DROPPED_AFTER
                    )
                    r["open_left"] = (
                        None if r["open_deadline"] is None else max(0, r["open_deadline"] - now)
                    )
                return {
                    "rows": rows,
                    "now": now,
                    "counts": {
                        state: sum(r["state"] == state for r in rows)
                        for state in ("not signed in", "signed in", "in progress", "finished")
                    },
                    "dropped": sum(r["dropped"] for r in rows),
                    "pending": len(db.proposals(conn, status="pending")),
                    "release_at": results.release_time(exam, db, conn),
                    "events": db.events(conn, 10),
                }

        return s.page(request, "dashboard.html", **await run_in_threadpool(work))

    async def results_page(request: Request) -> Response:
        s.instructor(request)

        def work() -> dict[str, Any]:
            with db.read() as conn:
                scores = results.overview(exam, db, conn).scores()
                return {
                    "distribution": results.distribution(scores, exam.n),
                    "summary": results.summary(scores, exam.n),
                    "stats": results.item_stats(db, conn),
                    "formats": FORMATS,
                }

        return s.page(request, "results.html", **await run_in_threadpool(work))

    async def student_page(request: Request) -> Response:
        s.instructor(request)
        sid = request.path_params["sid"]

        def work() -> dict[str, Any]:
            with db.read() as conn:
                student = db.student(conn, sid)
                if student is None:
                    raise HTTPException(404, f"no student {sid!r} on the roster")
                attempt = s.attempts.load(conn, sid)
                return {
                    "student": student,
                    "session": None if attempt is None else attempt.session,
                    "attempt": None if attempt is None else attempt.row,
                    "now": s.clock(),
                }

        return s.page(request, "student.html", **await run_in_threadpool(work))

    async def grace(request: Request) -> Response:
        s.instructor(request)
        form = await s.form(request)
        try:
            seconds = float(form.get("seconds", ""))
        except ValueError:
            seconds = 0.0
        if not 0 < seconds <= MAX_GRACE:
            raise HTTPException(400, f"grace is a number of seconds, 1 to {MAX_GRACE:g}")
        target = form.get("student", "")

        def work() -> int:
            with db.write() as conn:
                return db.grace(conn, seconds, None if target == "*" else [target])

        granted = await run_in_threadpool(work)
        back = "/dashboard" if target == "*" else f"/dashboard/student/{target}"
        return RedirectResponse(f"{back}?granted={granted}", 303)

    async def new_code(request: Request) -> Response:
        s.instructor(request)
        form = await s.form(request)
        sid = form.get("student", "")

        def work() -> auth.Credentials:
            with db.write() as conn:
                if db.student(conn, sid) is None:
                    raise HTTPException(404, f"no student {sid!r} on the roster")
                db.log(conn, sid, "new code")
                return auth.issue_codes(db, conn, [sid])[0]

        credentials = await run_in_threadpool(work)
        return s.page(
            request,
            "new_code.html",
            credentials=credentials,
            base=str(request.base_url).rstrip("/"),
        )

    async def release(request: Request) -> Response:
        s.instructor(request)
        await s.form(request)

        def work() -> None:
            with db.write() as conn:
                db.set_meta(conn, results.RELEASED_KEY, repr(s.clock()))
                db.log(conn, None, "results released")

        await run_in_threadpool(work)
        return RedirectResponse("/dashboard", 303)

    async def gradebook(request: Request) -> Response:
        s.instructor(request)
        fmt = request.query_params.get("format", "plain")
        if fmt not in FORMATS:
            raise HTTPException(400, f"format is one of {', '.join(FORMATS)}")

        def work() -> str:
            with db.read() as conn:
                rows = results.gradebook_rows(exam, db, conn)
            return gradebook_csv(rows, fmt, exam.title, exam.id)

        return _csv(await run_in_threadpool(work), f"{exam.id}-{fmt}.csv")

    async def items_csv(request: Request) -> Response:
        s.instructor(request)

        def work() -> str:
            with db.read() as conn:
                return results.items_csv(results.item_stats(db, conn))

        return _csv(await run_in_threadpool(work), f"{exam.id}-items.csv")

    async def proposal_list(request: Request) -> Response:
        s.instructor(request)

        def work() -> list[dict[str, Any]]:
            with db.read() as conn:
                return db.proposals(conn)

        return s.page(request, "proposals.html", proposals=await run_in_threadpool(work))

    async def proposal_review(request: Request) -> Response:
        s.instructor(request)
        pid = int(request.path_params["pid"])

        def load() -> dict[str, Any]:
            with db.read() as conn:
                proposal = db.proposal(conn, pid)
                if proposal is None:
                    raise HTTPException(404, f"no proposal {pid}")
                proposal["author"] = db.student(conn, proposal["student"])
                return proposal

        proposal = await run_in_threadpool(load)
        values = {
            "text": proposal["text"],
            "choices": "\n".join(proposal["choices"]),
            "answer": str(proposal["answer"] + 1),
            "explanation": proposal["explanation"],
            "topic": proposal["topic"],
            "source": proposal["source"],
            "qid": proposal["qid"] or f"{proposal['topic']}-student-{pid}",
            "comment": proposal["comment"],
        }
        errors: list[str] = []
        status = 200
        if request.method == "POST":
            values = await s.form(request)
            action = values.get("action", "")
            comment = values.get("comment", "").strip()
            qid = values.get("qid", "").strip()
            fields, errors = proposals.from_form(values, s.full_bank)
            if action == "reject":  # the question stays as the student wrote it
                fields = _fields_of(proposal)
                errors = (
                    []
                    if comment
                    else ["say in the comment why the question is rejected: the student reads it"]
                )
            elif action == "accept" and proposal["status"] == "accepted":
                errors = [f"this question is in the bank already, as {proposal['qid']}"]
            elif action == "accept" and not QID.match(qid):
                errors.append("the id in the bank: letters, digits, '.', '_' and '-' only")
            if not errors and action == "accept":
                author = proposal["author"]
                credit = f"{author['name']} ({author['id']})" if author else proposal["student"]
                try:
                    await run_in_threadpool(
                        proposals.accept, fields, qid, credit, s.proposals_folder, s.full_bank
                    )
                except ValueError as exc:
                    errors = [str(exc)]
            if not errors:
                status_to = {"accept": "accepted", "reject": "rejected"}.get(action, "pending")

                def save() -> None:
                    with db.write() as conn:
                        db.review_proposal(
                            conn,
                            pid,
                            fields,
                            status_to,
                            comment,
                            qid if action == "accept" else None,
                        )

                await run_in_threadpool(save)
                return RedirectResponse("/dashboard/proposals", 303)
            status = 400
        return s.page(
            request,
            "proposal_review.html",
            status,
            proposal=proposal,
            values=values,
            errors=errors,
            topics=s.full_bank.topics(),
        )

    return [
        Route("/dashboard", live),
        Route("/dashboard/results", results_page),
        Route("/dashboard/student/{sid}", student_page),
        Route("/dashboard/grace", grace, methods=["POST"]),
        Route("/dashboard/code", new_code, methods=["POST"]),
        Route("/dashboard/release", release, methods=["POST"]),
        Route("/dashboard/gradebook.csv", gradebook),
        Route("/dashboard/items.csv", items_csv),
        Route("/dashboard/proposals", proposal_list),
        Route("/dashboard/proposals/{pid:int}", proposal_review, methods=["GET", "POST"]),
    ]


def _fields_of(proposal: dict[str, Any]) -> dict[str, Any]:
    return {k: proposal[k] for k in proposals.FIELDS}


def _state(row: dict[str, Any], n: int) -> str:
    if row["attempt"] is None:
        return "signed in" if row["signed_in"] is not None else "not signed in"
    if row["finished"] is not None or (row["closed"] or 0) >= n:
        return "finished"
    return "in progress"


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
