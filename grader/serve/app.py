"""The exam server's web application (Starlette): sign-in, the student's pages, the dashboard.

Server-rendered pages (Jinja2), a little JavaScript for the countdown and the
heartbeat, and forms that work from the keyboard. Every POST carries the session's CSRF
token; every change is committed before its reply; the rules of an attempt are the
quiz Session's (see attempts.py). Students see only their own attempt; the dashboard
and its exports check for the instructor's session on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from grader.quiz.bank import Bank
from grader.quiz.session import LETTERS, Item
from grader.serve import auth, proposals
from grader.serve.attempts import Attempts, Refused
from grader.serve.db import Database
from grader.serve.exam import Exam
from grader.serve.render import inline, to_html
from grader.serve.results import release_time, released

HERE = Path(__file__).parent
COOKIE = "dlgrade_exam"


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    if t == math.inf:
        return "when the instructor releases them"
    if t == -math.inf:
        return "at once"
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


class Server:
    """What the routes share: the exam, its bank, the database, the clock, the sign-in limits."""

    def __init__(
        self, exam: Exam, bank: Bank, bank_folder: Path, db: Database, clock: Callable[[], float]
    ) -> None:
        self.exam, self.full_bank, self.db, self.clock = exam, bank, db, clock
        self.proposals_folder = exam.proposals_into or bank_folder
        self.attempts = Attempts(exam, bank, db, clock)
        # failed sign-ins per address and minute: a lecture hall may share one address, and a
        # code has 50 random bits, so students get more tries than the instructor's password
        self.code_limiter = auth.RateLimit(limit=30)
        self.password_limiter = auth.RateLimit(limit=10)
        self.started = clock()
        with db.write() as conn:
            db.sync_roster(conn, exam.roster)
            self.secret = auth.cookie_secret(db, conn)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals.update(
            to_html=to_html, inline=inline, fmt_time=fmt_time, letters=LETTERS, exam=exam
        )

    # -- helpers ----------------------------------------------------------------------------
    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("role", request.session.get("role"))
        context["csrf"] = csrf_token(request)
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def item_token(self, attempt_id: int, position: int) -> str:
        """Binds a form to one question of one attempt, without naming the question."""
        message = f"{attempt_id}:{position}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:20]

    def student(self, request: Request) -> str:
        if request.session.get("role") != "student":
            raise HTTPException(401, "sign in with your code first")
        return str(request.session["sid"])

    def instructor(self, request: Request) -> None:
        role = request.session.get("role")
        if role == "student":
            raise HTTPException(403, "this page is the instructor's")
        if role != "instructor":
            raise HTTPException(401, "sign in as the instructor first")

    async def form(self, request: Request) -> dict[str, str]:
        """The POSTed form, after its CSRF token has been checked."""
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        if not auth.csrf_ok(request.session.get("csrf"), data.get("csrf")):
            raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
        return data


def csrf_token(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = auth.new_csrf()
    return str(request.session["csrf"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


# -- sign-in --------------------------------------------------------------------------------------
def _sign_in(request: Request, role: str, sid: str | None = None) -> None:
    request.session.clear()
    request.session.update({"role": role, "csrf": auth.new_csrf()})
    if sid is not None:
        request.session["sid"] = sid


def routes(s: Server) -> list[Route | Mount]:  # noqa: C901 (one flat list of small handlers)
    db, exam = s.db, s.exam

    async def home(request: Request) -> Response:
        role = request.session.get("role")
        if role == "student":
            return RedirectResponse("/exam", 303)
        if role == "instructor":
            return RedirectResponse("/dashboard", 303)
        return s.page(request, "signin.html")

    async def spend(request: Request, column: str, secret: str, what: str) -> Response:
        """Signs a student in with a one-time code or link token, which is then spent."""
        client = _client(request)
        if s.code_limiter.blocked(client):
            return s.page(request, "signin.html", 429, error="too many tries: wait a minute")

        def work() -> str | None:
            with db.write() as conn:
                return db.spend_code(conn, column, auth.digest(secret), s.clock())

        sid = await run_in_threadpool(work)
        if sid is None:
            s.code_limiter.failed(client)
            error = f"that {what} is not valid, or it was used already"
            return s.page(request, "signin.html", 401, error=error)
        _sign_in(request, "student", sid)
        return RedirectResponse("/exam", 303)

    async def signin(request: Request) -> Response:
        if request.method == "GET":
            return s.page(request, "signin.html")
        form = await s.form(request)
        return await spend(request, "code", auth.normalise_code(form.get("code", "")), "code")

    async def signin_link(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "GET":  # a page, not a sign-in: mail scanners follow links
            return s.page(request, "signin_link.html", token=token)
        await s.form(request)
        return await spend(request, "token", token, "link")

    async def instructor_signin(request: Request) -> Response:
        if request.method == "GET":
            return s.page(request, "instructor_signin.html")
        form = await s.form(request)
        client = _client(request)
        if s.password_limiter.blocked(client):
            return s.page(
                request, "instructor_signin.html", 429, error="too many tries: wait a minute"
            )

        def check() -> bool:
            with db.read() as conn:
                return auth.check_password(db, conn, form.get("password", ""))

        if form.get("user") != exam.instructor or not await run_in_threadpool(check):
            s.password_limiter.failed(client)
            return s.page(request, "instructor_signin.html", 401, error="wrong user or password")
        _sign_in(request, "instructor")
        return RedirectResponse("/dashboard", 303)

    async def signout(request: Request) -> Response:
        await s.form(request)
        request.session.clear()
        return RedirectResponse("/", 303)

    # -- the student's exam -------------------------------------------------------------------
    async def exam_page(request: Request) -> Response:
        sid = s.student(request)

        def work() -> dict[str, Any]:
            with db.write() as conn:
                attempt = s.attempts.current(conn, sid)
                student = db.student(conn, sid)
                now = s.clock()
                ctx: dict[str, Any] = {"student": student, "now": now}
                if attempt is None:
                    return ctx
                session = attempt.session
                ctx["attempt"] = attempt
                if session.finished:
                    ctx["released"] = released(exam, db, conn, now)
                    ctx["release_at"] = release_time(exam, db, conn)
                    ctx["answered"] = sum(it.status == "answered" for it in session.items)
                    return ctx
                item = session.current
                assert item is not None and item.deadline is not None
                ctx.update(
                    item=item,
                    position=session.position,
                    remaining=max(0.0, item.deadline - now),
                    token=s.item_token(attempt.row.id, session.position),
                )
                return ctx

        ctx = await run_in_threadpool(work)
        return s.page(request, "exam.html", **ctx)

    async def start(request: Request) -> Response:
        sid = s.student(request)
        await s.form(request)

        def work() -> None:
            with db.write() as conn:
                if db.attempt_of(conn, sid) is None:
                    s.attempts.start(conn, sid)

        try:
            await run_in_threadpool(work)
        except Refused as refused:
            raise HTTPException(refused.status, refused.reason) from None
        return RedirectResponse("/exam", 303)

    async def save(request: Request) -> Response:
        sid = s.student(request)
        form = await s.form(request)
        try:
            position = int(form.get("position", ""))
        except ValueError:
            raise HTTPException(400, "no question named in the form") from None
        action = form.get("action", "save")
        letter: int | None = None
        if action == "save":
            choice = form.get("choice", "")
            if not choice.isdigit():
                return await not_saved(
                    request, "choose an answer first, or leave it unanswered", 400
                )
            letter = int(choice)

        def work() -> Refused | None:
            with db.write() as conn:  # the commit happens before the reply below
                attempt = s.attempts.load(conn, sid, lock=True)
                if attempt is None or not hmac.compare_digest(
                    form.get("item", ""), s.item_token(attempt.row.id, position)
                ):
                    db.log(conn, sid, "refused", f"foreign question (position {position})")
                    return Refused("that question is not one of yours", 403)
                try:
                    s.attempts.answer(attempt, position, letter)
                except Refused as refused:
                    db.log(conn, sid, "refused", f"position {position}: {refused.reason}")
                    return refused
                return None

        refused = await run_in_threadpool(work)
        if refused is not None:
            return await not_saved(request, refused.reason, refused.status)
        if exam.mode == "practice":
            return RedirectResponse(f"/exam/feedback/{position}", 303)
        return RedirectResponse("/exam", 303)

    async def not_saved(request: Request, reason: str, status: int) -> Response:
        return s.page(request, "not_saved.html", status, reason=reason)

    async def feedback(request: Request) -> Response:
        """Practice mode: the right answer and the explanation of a question once it is closed."""
        sid = s.student(request)
        if exam.mode != "practice":
            raise HTTPException(404, "an exam shows no feedback before the results are released")
        position = int(request.path_params["position"])

        def work() -> Item | None:
            with db.read() as conn:
                attempt = s.attempts.load(conn, sid)
                if attempt is None or not 0 <= position < len(attempt.session.items):
                    return None
                item = attempt.session.items[position]
                return item if item.closed else None

        item = await run_in_threadpool(work)
        if item is None:
            raise HTTPException(409, "that question is not closed yet")
        return s.page(request, "feedback.html", item=item, position=position)

    async def ping(request: Request) -> Response:
        """The page's heartbeat: closes what ran out (never opens the next question), and says
        where the attempt stands."""
        sid = s.student(request)

        def work() -> dict[str, Any]:
            with db.write() as conn:
                attempt = s.attempts.load(conn, sid, lock=True)
                if attempt is None:
                    return {"started": False}
                session = attempt.session
                session.tick()
                s.attempts.seen(attempt)
                item = session.current
                remaining = None
                if item is not None and item.deadline is not None and item.status == "open":
                    remaining = round(max(0.0, item.deadline - s.clock()), 1)
                return {
                    "started": True,
                    "position": session.position,
                    "finished": session.finished,
                    "remaining": remaining,
                }

        return JSONResponse(await run_in_threadpool(work), headers={"Cache-Control": "no-store"})

    async def review(request: Request) -> Response:
        sid = s.student(request)

        def work() -> dict[str, Any]:
            with db.write() as conn:
                now = s.clock()
                if not released(exam, db, conn, now):
                    raise HTTPException(
                        403, f"results are released {fmt_time(release_time(exam, db, conn))}"
                    )
                attempt = s.attempts.load(conn, sid, lock=True)
                if attempt is None:
                    raise HTTPException(404, "you did not take this exam")
                attempt.session.tick()
                if not attempt.session.finished:
                    raise HTTPException(409, "finish the exam first")
                return {"session": attempt.session, "student": db.student(conn, sid)}

        return s.page(request, "review.html", **await run_in_threadpool(work))

    async def propose(request: Request) -> Response:
        sid = s.student(request)
        errors: list[str] = []
        values: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            values = await s.form(request)
            fields, errors = proposals.from_form(values, s.full_bank)
            if not errors:

                def add() -> None:
                    with db.write() as conn:
                        db.add_proposal(conn, sid, fields)

                await run_in_threadpool(add)
                return RedirectResponse("/propose?sent=1", 303)
            status = 400

        def mine() -> list[dict[str, Any]]:
            with db.read() as conn:
                return db.proposals(conn, sid=sid)

        return s.page(
            request,
            "propose.html",
            status,
            errors=errors,
            values=values,
            topics=s.full_bank.topics(),
            mine=await run_in_threadpool(mine),
            sent=request.query_params.get("sent") == "1",
        )

    from grader.serve.dashboard import dashboard_routes

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    return [
        Route("/", home),
        Route("/favicon.ico", favicon),
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signin/{token}", signin_link, methods=["GET", "POST"]),
        Route("/instructor", instructor_signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/exam", exam_page),
        Route("/exam/start", start, methods=["POST"]),
        Route("/exam/save", save, methods=["POST"]),
        Route("/exam/feedback/{position:int}", feedback),
        Route("/exam/ping", ping),
        Route("/review", review),
        Route("/propose", propose, methods=["GET", "POST"]),
        *dashboard_routes(s),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


class Headers:
    """Headers on every reply. Pages are never cached: Back and a reload always ask the server,
    which shows what is open now. ``Server-Timing`` says how long the application took (the
    load test reads it, as do a browser's developer tools)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers += [
                    (b"server-timing", f"app;dur={took:.1f}".encode()),
                    (b"cache-control", b"no-store"),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (
                        b"content-security-policy",
                        b"default-src 'self'; script-src 'self'; style-src 'self'; "
                        b"form-action 'self'; frame-ancestors 'none'",
                    ),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    exam: Exam,
    bank: Bank,
    bank_folder: Path,
    db: Database,
    clock: Callable[[], float] = time.time,
    https_only: bool = False,
) -> Starlette:
    """The ASGI application of one exam, drawing from ``bank`` (read from ``bank_folder``, where
    accepted proposals go unless the exam says otherwise); tests pass a fake ``clock``."""
    server = Server(exam, bank, bank_folder, db, clock)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 401 and request.method == "GET":
            return RedirectResponse("/", 303)
        return server.page(request, "error.html", exc.status_code, message=exc.detail)

    app = Starlette(
        routes=routes(server),
        middleware=[
            Middleware(Headers),
            Middleware(
                SessionMiddleware,
                secret_key=server.secret,
                session_cookie=COOKIE,
                max_age=12 * 3600,
                same_site="lax",
                https_only=https_only,
            ),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.server = server
    return app
