"""The exam server in-process (Starlette's test client, a fake clock): the exam rules enforced on
the server, every attack refused, the dashboard, proposals, exports, and the CLI's errors."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from click.testing import CliRunner  # noqa: E402
from serve_helpers import (  # noqa: E402
    EXPLANATION,
    StudentClient,
    field,
    issue_codes,
    make_exam,
)
from starlette.testclient import TestClient  # noqa: E402

from grader.cli import cli  # noqa: E402
from grader.quiz.bank import Rendered, load  # noqa: E402
from grader.serve import auth  # noqa: E402
from grader.serve.app import COOKIE, create_app  # noqa: E402
from grader.serve.db import Database  # noqa: E402
from grader.serve.exam import load_exam  # noqa: E402
from grader.serve.render import to_html  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class FakeClock:
    """The server's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    path: Path
    clock: FakeClock
    codes: dict[str, str]
    db: Database
    app: object

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")

    def student(self, sid: str = "s001", start: bool = True) -> StudentClient:
        st = StudentClient(self.client())
        assert st.sign_in(self.codes[sid]).status_code == 200
        if start:
            assert st.start().status_code == 200
        return st

    def instructor(self) -> TestClient:
        c = self.client()
        csrf = field(c.get("/instructor").text, "csrf")
        r = c.post("/instructor", data={"user": "instructor", "password": PASSWORD, "csrf": csrf})
        assert r.status_code == 200 and "Live" in r.text
        return c

    def item(self, sid: str, position: int) -> dict:
        with self.db.read() as conn:
            attempt = self.db.attempt_of(conn, sid)
            assert attempt is not None
            row = self.db.items_of(conn, attempt.id)[position]
        return row.__dict__

    def restart(self) -> None:
        """A new server process on the same database (what a restart after SIGKILL is)."""
        exam = load_exam(self.path)
        bank = load([self.path.parent / "banks"])
        self.app = create_app(exam, bank, self.path.parent / "banks", self.db, clock=self.clock)


PASSWORD = "a long instructor password"


@pytest.fixture
def setup(tmp_path: Path):
    made: list[Setup] = []

    def make(**kwargs) -> Setup:
        path = make_exam(tmp_path / f"exam{len(made)}", **kwargs)
        codes = issue_codes(path)
        exam = load_exam(path)
        db = Database(exam.database_url())
        db.create()
        with db.write() as conn:
            auth.set_password(db, conn, PASSWORD)
        clock = FakeClock()
        bank = load([path.parent / "banks"])
        s = Setup(
            path, clock, codes, db, create_app(exam, bank, path.parent / "banks", db, clock=clock)
        )
        made.append(s)
        return s

    yield make
    for s in made:
        s.db.dispose()


# -- the rules ---------------------------------------------------------------------------------------
def test_a_student_signs_in_answers_every_question_and_finishes(setup) -> None:
    s = setup(n=4)
    st = s.student()
    for position in range(4):
        q = st.question()
        assert q is not None and q.position == position and len(q.choices) >= 3
        assert st.save(q, 0).status_code == 200
    page = st.http.get("/exam").text
    assert "Finished" in page and "You saved 4 answers of 4 questions" in page
    assert "Results are released when the instructor releases them" in page


def test_the_deadline_is_fixed_when_the_question_is_first_shown(setup) -> None:
    """A reload shows the same question with less time: the deadline does not move."""
    s = setup(seconds=60)
    st = s.student()
    first = st.question()
    deadline = s.item("s001", 0)["deadline"]
    assert deadline == pytest.approx(s.clock.now + 60)
    s.clock.now += 25
    again = st.question()
    assert again.position == first.position and again.text == first.text
    assert again.remaining == pytest.approx(35, abs=0.1)
    assert s.item("s001", 0)["deadline"] == deadline


def test_a_save_after_the_deadline_is_refused_whatever_the_client_says(setup) -> None:
    s = setup(seconds=30)
    st = s.student()
    q = st.question()
    s.clock.now += 30.0  # at the deadline: too late
    r = st.save(q, 0, remaining="25", client_time=str(time.time()))
    assert r.status_code == 409 and "time for this question was up" in r.text
    row = s.item("s001", 0)
    assert row["status"] == "timed_out" and row["choice"] is None
    assert st.question().position == 1  # it closed and the next one opened


def test_a_question_that_timed_out_closes_and_the_next_opens_on_the_next_page(setup) -> None:
    s = setup(seconds=10)
    st = s.student()
    st.question()
    s.clock.now += 11
    q = st.question()
    assert q.position == 1 and q.remaining == pytest.approx(10)
    assert s.item("s001", 0)["status"] == "timed_out"


def test_a_closed_question_cannot_be_reopened_by_back_reload_or_replay(setup) -> None:
    s = setup()
    st = s.student()
    q0 = st.question()
    assert st.save(q0, 1).status_code == 200
    saved = s.item("s001", 0)
    # replaying the same request (Back, then Save again), or another answer for it
    for letter in (1, 2):
        r = st.save(q0, letter)
        assert r.status_code == 409 and "that question is closed" in r.text
    # "Back" and reload: the server shows the open question, never the closed one
    assert st.question().position == 1
    assert st.http.get("/exam").headers["cache-control"] == "no-store"
    assert s.item("s001", 0) == saved


def test_a_save_for_a_question_not_yet_shown_is_refused(setup) -> None:
    s = setup()
    st = s.student()
    q0 = st.question()
    token_1 = s.app.state.server.item_token(1, 1)  # the token of position 1 of attempt 1
    r = st.save(q0, 0, position="1", item=token_1)
    assert r.status_code == 409
    assert s.item("s001", 1)["status"] == "pending"


def test_a_save_for_another_students_question_is_refused(setup) -> None:
    s = setup()
    ann, bob = s.student("s001"), s.student("s002")
    ann_q, bob_q = ann.question(), bob.question()
    r = ann.save(bob_q, 0)  # Bob's form, Ann's session
    assert r.status_code == 403 and "not one of yours" in r.text
    assert s.item("s002", 0)["status"] == "open" and s.item("s001", 0)["status"] == "open"
    assert ann.save(ann_q, 0).status_code == 200


def test_an_unknown_choice_is_refused(setup) -> None:
    s = setup()
    st = s.student()
    q = st.question()
    assert st.save(q, 9).status_code == 400
    assert s.item("s001", 0)["status"] == "open"


def test_two_saves_at_once_record_one_answer(setup) -> None:
    s = setup()
    st = s.student()
    q = st.question()
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(st.save(q, 0).status_code))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409, 409, 409]


def test_each_student_has_an_order_reproducible_from_the_stored_seed(setup) -> None:
    s = setup(n=8, students=4)
    server = s.app.state.server
    orders = []
    for sid in ("s001", "s002", "s003", "s004"):
        s.student(sid)
        with s.db.read() as conn:
            attempt = s.db.attempt_of(conn, sid)
            stored = [(r.qid, r.variant, r.order) for r in s.db.items_of(conn, attempt.id)]
        redrawn = [(it.qid, it.variant, it.order) for it in server.attempts.draw(attempt.seed)]
        assert stored == redrawn
        orders.append(stored)
    assert len({tuple(o) for o in orders}) > 1, (
        "four students drew the same questions in the same order"
    )


def test_the_key_is_in_no_page_before_results_are_released(setup) -> None:
    """No page a student can fetch carries an explanation, and the question page is the same
    byte for byte whichever choice is the key."""
    s = setup(n=3)
    st = s.student()
    pages = [st.http.get(p) for p in ("/", "/exam", "/exam/ping", "/review", "/propose", "/signin")]
    server = s.app.state.server
    original = server.attempts.render
    keyed = []
    for key in (0, 1, 2):

        def render(qid, variant, key=key):
            r = original(qid, variant)
            return Rendered(r.text, r.choices, key, r.explanation)

        server.attempts.render = render
        keyed.append(st.http.get("/exam").text)
    server.attempts.render = original
    assert keyed[0] == keyed[1] == keyed[2]
    for _ in range(3):
        q = st.question()
        pages.append(st.save(q, 0))
    pages += [st.http.get(p) for p in ("/exam", "/exam/ping", "/review", "/exam/feedback/0")]
    assert [p.status_code for p in pages[-3:]] == [200, 403, 404]
    for page in pages:
        assert not EXPLANATION.search(page.text), page.url
        assert "right answer" not in page.text and '"correct"' not in page.text
        assert "alpha-" not in page.text and "beta-" not in page.text  # no question id either


def test_after_release_a_student_sees_their_own_review(setup) -> None:
    s = setup(n=2)
    st = s.student()
    for _ in range(2):
        st.save(st.question(), 0)
    teacher = s.instructor()
    csrf = field(teacher.get("/dashboard").text, "csrf")
    assert teacher.post("/dashboard/release", data={"csrf": csrf}).status_code == 200
    review = st.http.get("/review")
    assert review.status_code == 200 and "EXPLANATION-" in review.text
    assert "Score:" in review.text


def test_practice_mode_shows_the_answer_and_why_after_each_question(setup) -> None:
    s = setup(mode="practice", n=2, results="immediately")
    st = s.student()
    q = st.question()
    r = st.save(q, 0)
    assert (
        r.url.path == "/exam/feedback/0"
        and "EXPLANATION-" in r.text
        and "the right answer" in r.text
    )
    assert st.http.get("/exam/feedback/1").status_code == 409  # not closed yet: no key
    st.save(st.question(), 0)
    assert st.http.get("/review").status_code == 200


# -- window, restart, grace, reconnect -----------------------------------------------------------------
def test_the_exam_can_be_started_only_inside_its_window(setup) -> None:
    early = setup(opens="2098-01-01 00:00")
    st = early.student(start=False)
    assert "The exam opens 2098-01-01 00:00" in st.http.get("/exam").text
    assert st.start().status_code == 403
    late = setup(opens="2000-01-01 00:00", closes="2001-01-01 00:00")
    assert late.student(start=False).start().status_code == 403


def test_the_window_closing_closes_the_open_question(setup) -> None:
    s = setup(
        seconds=600, closes=time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() + 120))
    )
    st = s.student()
    q = st.question()
    assert q.remaining <= 120
    s.clock.now += 121
    assert st.save(q, 0).status_code == 409
    assert "Finished" in st.http.get("/exam").text


def test_a_restarted_server_continues_the_attempt_with_its_deadlines(setup) -> None:
    s = setup(seconds=60)
    st = s.student()
    st.save(st.question(), 0)
    q1 = st.question()
    deadline = s.item("s001", 1)["deadline"]
    s.clock.now += 20  # 20 s pass while the server is down
    s.restart()
    st.http = TestClient(s.app, base_url="http://127.0.0.1", cookies=st.http.cookies)
    again = st.question()
    assert again.position == 1 and again.text == q1.text and again.remaining == pytest.approx(40)
    assert s.item("s001", 1)["deadline"] == deadline and s.item("s001", 0)["status"] == "answered"
    s.clock.now += 41  # the rest runs out: time passed while down counted as passed
    assert st.save(again, 0).status_code == 409


def test_grace_from_the_dashboard_extends_the_open_question(setup) -> None:
    s = setup(seconds=30, students=2)
    ann, bob = s.student("s001"), s.student("s002")
    qa, qb = ann.question(), bob.question()
    teacher = s.instructor()
    csrf = field(teacher.get("/dashboard").text, "csrf")
    r = teacher.post("/dashboard/grace", data={"csrf": csrf, "student": "*", "seconds": "60"})
    assert r.status_code == 200 and "granted=2" in str(r.url)
    s.clock.now += 45  # past the original deadline, inside the grace
    assert ann.save(qa, 0).status_code == 200
    assert bob.save(qb, 1).status_code == 200
    assert (
        teacher.post(
            "/dashboard/grace", data={"csrf": csrf, "student": "*", "seconds": "-5"}
        ).status_code
        == 400
    )


def test_grace_granted_while_the_server_is_down_gives_back_the_lost_time(setup) -> None:
    s = setup(seconds=60)
    st = s.student()
    q = st.question()
    s.clock.now += 100  # the server is down; the deadline passes meanwhile
    r = CliRunner().invoke(cli, ["serve", "grace", str(s.path), "--seconds", "100"])
    assert r.exit_code == 0 and "100 s more for 1 open question" in r.output
    s.restart()
    st.http = TestClient(s.app, base_url="http://127.0.0.1", cookies=st.http.cookies)
    again = st.question()
    assert again.position == 0 and again.remaining == pytest.approx(60)
    assert st.save(q, 0).status_code == 200


def test_the_heartbeat_reports_the_time_left_and_never_opens_a_question(setup) -> None:
    s = setup(seconds=30)
    st = s.student()
    st.question()
    s.clock.now += 10
    assert st.http.get("/exam/ping").json() == {
        "started": True,
        "position": 0,
        "finished": False,
        "remaining": 20.0,
    }
    s.clock.now += 25
    beat = st.http.get("/exam/ping").json()
    assert beat["position"] == 1 and beat["remaining"] is None
    assert s.item("s001", 1)["status"] == "pending"  # its clock starts when it is shown


# -- access --------------------------------------------------------------------------------------------
def _forged(payload: dict, secret: str) -> str:
    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps(payload).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_a_forged_cookie_is_refused(setup) -> None:
    s = setup()
    for cookie in (
        _forged({"role": "instructor", "csrf": "x"}, "not the server's secret"),
        base64.b64encode(json.dumps({"role": "instructor"}).encode()).decode(),
        "garbage",
    ):
        c = s.client()
        c.cookies.set(COOKIE, cookie)
        r = c.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        r = c.post("/exam/save", data={"csrf": "x", "position": "0", "item": "x"})
        assert r.status_code == 401


def test_a_student_cookie_edited_to_another_student_is_refused(setup) -> None:
    s = setup()
    st = s.student("s001")
    value = st.http.cookies[COOKIE]
    data, rest = value.split(".", 1)
    payload = json.loads(base64.b64decode(data))
    payload["sid"] = "s002"
    st.http.cookies.set(
        COOKIE, base64.b64encode(json.dumps(payload).encode()).decode() + "." + rest
    )
    assert st.http.get("/exam", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(setup) -> None:
    s = setup()
    st = s.student()
    q = st.question()
    for csrf in (None, "", "wrong"):
        data = {"position": str(q.position), "item": q.item, "choice": "0", "action": "save"}
        if csrf is not None:
            data["csrf"] = csrf
        r = st.http.post("/exam/save", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert s.item("s001", 0)["status"] == "open"
    fresh = s.client()
    assert fresh.post("/signin", data={"code": s.codes["s002"]}).status_code == 403
    teacher = s.instructor()
    assert teacher.post("/dashboard/release", data={}).status_code == 403


def test_a_student_cannot_fetch_the_dashboard_exports_or_another_students_review(setup) -> None:
    s = setup()
    st = s.student("s001")
    s.student("s002")
    for path in (
        "/dashboard",
        "/dashboard/results",
        "/dashboard/student/s002",
        "/dashboard/gradebook.csv",
        "/dashboard/items.csv",
        "/dashboard/proposals",
    ):
        r = st.http.get(path, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Student 2" not in r.text
    csrf = st.token
    assert (
        st.http.post(
            "/dashboard/grace", data={"csrf": csrf, "student": "*", "seconds": "60"}
        ).status_code
        == 403
    )
    assert st.http.post("/dashboard/release", data={"csrf": csrf}).status_code == 403
    r = st.http.get("/review?student=s002")  # there is no way to name another student
    assert r.status_code == 403


def test_a_sign_in_code_works_once(setup) -> None:
    s = setup()
    s.student("s001", start=False)
    again = StudentClient(s.client())
    r = again.sign_in(s.codes["s001"])
    assert r.status_code == 401 and "used already" in r.text
    assert again.sign_in(s.codes["s002"].lower().replace("-", " ")).status_code == 200


def test_a_link_token_signs_in_only_from_its_form(setup) -> None:
    s = setup()
    with s.db.write() as conn:
        (credentials,) = auth.issue_codes(s.db, conn, ["s003"])
    c = s.client()
    page = c.get(f"/signin/{credentials.token}")
    assert page.status_code == 200 and "Sign in with this link" in page.text
    assert c.get("/exam", follow_redirects=False).status_code == 303  # a GET signs nobody in
    r = c.post(f"/signin/{credentials.token}", data={"csrf": field(page.text, "csrf")})
    assert r.status_code == 200 and "Student 3" in r.text


def test_sign_in_is_rate_limited(setup) -> None:
    s = setup()
    c = s.client()
    csrf = field(c.get("/instructor").text, "csrf")
    tries = [
        c.post("/instructor", data={"user": "instructor", "password": f"guess {i}", "csrf": csrf})
        for i in range(10)
    ]
    assert [r.status_code for r in tries] == [401] * 10
    r = c.post("/instructor", data={"user": "instructor", "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 429  # even the right password, for a minute
    csrf = field(c.get("/signin").text, "csrf")
    tries = [c.post("/signin", data={"code": f"AAAAA-AAA{i:02d}", "csrf": csrf}) for i in range(30)]
    assert [r.status_code for r in tries] == [401] * 30
    assert c.post("/signin", data={"code": s.codes["s001"], "csrf": csrf}).status_code == 429


# -- the dashboard ----------------------------------------------------------------------------------------
def test_the_dashboard_shows_the_class_live(setup) -> None:
    s = setup(n=3, students=3)
    ann = s.student("s001")
    ann.save(ann.question(), 0)
    bob = s.student("s002")
    bob.question()
    s.clock.now += 31  # Bob's page has not asked anything for 31 s: dropped
    ann.question()
    page = s.instructor().get("/dashboard").text
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r'<tr class="[^"]*">\s*<td><a href="/dashboard/student/(s\d+)">.*?</tr>', page, re.S
        )
    }
    assert "in progress" in rows["s001"] and "<td>1</td>" in rows["s001"]
    assert "connection dropped" in rows["s002"] and "connection dropped" not in rows["s001"]
    assert "not signed in" in rows["s003"]
    assert "1 connection dropped" in page


def _key(q) -> int:
    """The letter of the right choice in the test banks ("right ..." or, in alpha-code, True)."""
    return next(i for i, c in enumerate(q.choices) if c.startswith("right") or c == "True")


def test_results_item_analysis_and_gradebooks(setup) -> None:
    s = setup(n=3, students=3)
    for sid, letter in (("s001", None), ("s002", 0)):
        st = s.student(sid)
        for _ in range(3):
            q = st.question()
            st.save(q, _key(q) if letter is None else letter)
    teacher = s.instructor()
    results = teacher.get("/dashboard/results").text
    assert "2 students took the exam" in results and "Item analysis" in results
    plain = list(
        csv.DictReader(io.StringIO(teacher.get("/dashboard/gradebook.csv?format=plain").text))
    )
    assert [(r["id"], r["score"]) for r in plain] == [
        ("s001", "3"),
        ("s002", plain[1]["score"]),
        ("s003", ""),
    ]
    canvas = teacher.get("/dashboard/gradebook.csv?format=canvas").text.splitlines()
    assert canvas[0] == "Student,ID,SIS User ID,Section,Test exam (test-exam),accepted questions"
    assert canvas[1].startswith("Student 1,,s001,A,3,")
    moodle = teacher.get("/dashboard/gradebook.csv?format=moodle").text.splitlines()
    assert moodle[0] == "ID number,Email address,Full name,Test exam,accepted questions"
    items = list(csv.DictReader(io.StringIO(teacher.get("/dashboard/items.csv").text)))
    assert items and all(int(r["attempts"]) >= 1 for r in items)
    review = teacher.get("/dashboard/student/s001").text
    assert "Score: <strong>3 / 3</strong>" in review and "EXPLANATION-" in review
    r = CliRunner().invoke(cli, ["serve", "export", str(s.path), "--format", "moodle"])
    assert r.exit_code == 0 and r.output.splitlines()[1].startswith(
        "s001,s001@example.edu,Student 1,3,"
    )


def test_a_new_code_from_the_dashboard_replaces_the_old_one(setup) -> None:
    s = setup()
    teacher = s.instructor()
    csrf = field(teacher.get("/dashboard").text, "csrf")
    page = teacher.post("/dashboard/code", data={"csrf": csrf, "student": "s001"}).text
    code = re.search(r'class="code">([A-Z0-9-]+)<', page).group(1)
    assert StudentClient(s.client()).sign_in(s.codes["s001"]).status_code == 401
    assert StudentClient(s.client()).sign_in(code).status_code == 200


# -- proposals ---------------------------------------------------------------------------------------------
GOOD = {
    "text": "Which activation is $\\max(0, z)$?",
    "choices": "ReLU\nsigmoid\ntanh",
    "answer": "1",
    "explanation": "ReLU clips negatives to zero.",
    "topic": "alpha",
    "source": "Lecture 1",
}


def test_a_proposal_is_checked_by_the_banks_rules_with_the_errors_in_the_form(setup) -> None:
    s = setup()
    st = s.student(start=False)
    bad = dict(GOOD, choices="ReLU\nrelu", answer="4")
    r = st.http.post("/propose", data={**bad, "csrf": st.token})
    assert r.status_code == 400
    assert "2 choices; a question has 3 to 6" in r.text and "the number of a choice" in r.text
    assert "ReLU\nrelu</textarea>" in r.text  # what was typed stays in the form
    r = st.http.post("/propose", data={**dict(GOOD, choices="ReLU\nrelu\nReLU."), "csrf": st.token})
    assert "duplicate or ambiguous choices" in r.text
    r = st.http.post("/propose", data={**GOOD, "csrf": st.token})
    assert r.status_code == 200 and "waiting for review" in r.text and "pending" in r.text


def test_proposals_are_reviewed_into_the_bank_with_credit(setup) -> None:
    s = setup()
    st = s.student(start=False)
    st.http.post("/propose", data={**GOOD, "csrf": st.token})
    st.http.post("/propose", data={**GOOD, "text": "A weak question", "csrf": st.token})
    teacher = s.instructor()
    assert "A weak question" in teacher.get("/dashboard/proposals").text
    csrf = field(teacher.get("/dashboard/proposals/1").text, "csrf")
    edited = {
        **GOOD,
        "text": "Which activation computes $\\max(0, z)$?",
        "qid": "alpha-relu",
        "csrf": csrf,
    }
    r = teacher.post("/dashboard/proposals/1", data={**edited, "action": "accept"})
    assert r.status_code == 200, r.text
    again = teacher.post(
        "/dashboard/proposals/1", data={**edited, "action": "accept", "qid": "other"}
    )
    assert again.status_code == 400 and "in the bank already, as alpha-relu" in again.text
    bad_id = teacher.post(
        "/dashboard/proposals/2", data={**edited, "action": "accept", "qid": "a b"}
    )
    assert bad_id.status_code == 400 and "letters, digits" in bad_id.text
    reject = {**GOOD, "qid": "x", "csrf": csrf, "action": "reject"}
    assert "say in the comment why" in teacher.post("/dashboard/proposals/2", data=reject).text
    teacher.post("/dashboard/proposals/2", data={**reject, "comment": "Too easy to guess."})
    mine = st.http.get("/propose").text
    assert "accepted" in mine and "rejected" in mine and "Too easy to guess." in mine
    written = s.path.parent / "banks" / "students-alpha.yaml"
    bank = load([written])
    assert not bank.problems
    question = bank.questions["alpha-relu"]
    assert (
        question.text == "Which activation computes $\\max(0, z)$?"
        and question.choices[question.answer] == "ReLU"
    )
    assert (
        "author: Student 1 (s001)" in written.read_text()
        and "source: Lecture 1" in written.read_text()
    )
    r = CliRunner().invoke(
        cli, ["quiz", "validate", str(s.path.parent / "banks")], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    plain = teacher.get("/dashboard/gradebook.csv?format=plain").text.splitlines()
    assert plain[1].endswith(",1") and plain[2].endswith(",0")  # accepted questions per student


# -- rendering, the CLI ---------------------------------------------------------------------------------------
def test_question_text_renders_code_blocks_math_and_escapes_html() -> None:
    html = str(
        to_html(
            "Compute $\\sigma(z_1)$ <b>now</b>:\n\n```python\nif a < b:\n    print('<x>')\n```\nafter `x[0]`"
        )
    )
    assert '<span class="math">σ(z₁)</span>' in html and "&lt;b&gt;now&lt;/b&gt;" in html
    assert (
        '<pre><code class="language-python">if a &lt; b:\n    print(&#x27;&lt;x&gt;&#x27;)</code></pre>'
        in html
    )
    assert "<p>after <code>x[0]</code></p>" in html


def test_the_code_question_shows_as_a_code_block(setup) -> None:
    s = setup(extra="questions: [alpha-code]\n", n=1)
    st = s.student()
    assert '<pre><code class="language-python">print(1 &lt; 2)</code></pre>' in st.question().text


def test_bad_exam_and_roster_files_are_one_line_with_file_and_line(tmp_path: Path) -> None:
    path = make_exam(tmp_path, extra="colour: blue\n")
    r = CliRunner().invoke(cli, ["serve", "codes", str(path)])
    assert r.exit_code == 2 and re.search(r"exam\.yaml:11: unknown key 'colour'", r.output)
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    path = make_exam(tmp_path, extra="topics: [gamma]\n")
    r = CliRunner().invoke(cli, ["serve", "codes", str(path)])
    assert r.exit_code == 2 and "exam.yaml:11: no topic 'gamma'" in r.output
    path = make_exam(tmp_path)
    (tmp_path / "roster.csv").write_text("id,name,email\na1,Ann,ann@x.org\na1,Al,al@x.org\n")
    r = CliRunner().invoke(cli, ["serve", "codes", str(path)])
    assert r.exit_code == 2 and "roster.csv:3: student id 'a1' twice (first on line 2)" in r.output
    (tmp_path / "roster.csv").write_text("id,name,email\na1,Ann,not-an-email\n")
    r = CliRunner().invoke(cli, ["--debug", "serve", "codes", str(path)])
    assert (
        r.exit_code == 2 and "roster.csv:2: student a1: 'not-an-email' is not an email" in r.output
    )
    assert "Traceback" in r.output  # --debug shows it
    path.write_text(path.read_text().replace("n: 5", "n: five"))
    r = CliRunner().invoke(cli, ["serve", "run", str(path)])
    assert r.exit_code == 2 and "exam.yaml:4: n must be a whole number" in r.output


def test_codes_are_issued_once_unless_renewed(tmp_path: Path) -> None:
    path = make_exam(tmp_path, students=2)
    out = tmp_path / "codes.csv"
    r = CliRunner().invoke(
        cli, ["serve", "codes", str(path), "--out", str(out), "--url", "http://127.0.0.1:9000"]
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == ["s001", "s002"]
    assert all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", r["code"]) for r in rows)
    assert rows[0]["link"].startswith("http://127.0.0.1:9000/signin/")
    again = CliRunner().invoke(cli, ["serve", "codes", str(path)])
    assert again.exit_code == 0 and again.stdout.strip() == "id,name,email,code,link"
    one = CliRunner().invoke(cli, ["serve", "codes", str(path), "--student", "s002"])
    assert one.stdout.count("\n") == 2


def test_the_password_command_stores_an_argon2_hash(tmp_path: Path) -> None:
    path = make_exam(tmp_path)
    r = CliRunner().invoke(cli, ["serve", "password", str(path)], input="short\nshort\n")
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = CliRunner().invoke(cli, ["serve", "password", str(path)], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0
    db = Database(load_exam(path).database_url())
    with db.read() as conn:
        assert db.get_meta(conn, auth.PASSWORD_KEY).startswith("$argon2")
        assert auth.check_password(db, conn, PASSWORD) and not auth.check_password(db, conn, "x")
    db.dispose()


def test_the_shipped_exam_files_draw_from_the_course_banks() -> None:
    from conftest import REPO

    from grader.serve.attempts import exam_bank

    bank = load([REPO / "quizzes"])
    for name in ("practice", "final"):
        exam = load_exam(REPO / "exams" / f"{name}.yaml")
        assert len(exam_bank(exam, bank).questions) >= exam.n and exam.roster


def test_the_quiz_does_not_load_the_web_stack() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from grader.cli import cli; "
        "r = CliRunner().invoke(cli, ['quiz', 'validate', 'quizzes/perceptron.yaml']); "
        "print(r.exit_code, sorted(m for m in ('starlette', 'sqlalchemy', 'uvicorn', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=120,
    )
    assert out.stdout.split() == ["0", "[]"], out.stderr


def test_sqlite_writes_in_a_group_are_each_committed_before_they_return(tmp_path: Path) -> None:
    """Concurrent writers share transactions (one fsync for many), yet each write is in the
    database, as another connection sees it, the moment its block returns; one that fails
    undoes only its own change."""
    db = Database(f"sqlite:///{tmp_path / 'g.sqlite'}")
    db.create()
    seen_missing: list[str] = []
    failures: list[str] = []

    def writer(i: int) -> None:
        try:
            with db.write() as conn:
                db.set_meta(conn, f"k{i}", str(i))
                if i % 10 == 3:
                    raise ValueError("this request fails")
        except ValueError:
            failures.append(f"k{i}")
            return
        with db.read() as conn:  # another connection, right after the return
            if db.get_meta(conn, f"k{i}") != str(i):
                seen_missing.append(f"k{i}")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert seen_missing == [] and len(failures) == 6
    with db.read() as conn:
        assert [db.get_meta(conn, f) for f in failures] == [None] * 6
        assert sum(db.get_meta(conn, f"k{i}") is not None for i in range(60)) == 54
    assert db._group.group < 60  # at least some requests shared a commit
    db.dispose()
