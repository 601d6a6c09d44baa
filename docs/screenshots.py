"""Takes the screenshots in docs/ (exam-student.png, exam-dashboard.png) of a real `dlgrade serve`
on 127.0.0.1 with Debian's chromium, headless, through Playwright (nothing is downloaded).

    python docs/screenshots.py

A class of eight is made up in a temporary folder; a few students answer some questions
over HTTP so that the dashboard has something to show, and one has gone quiet.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from serve_helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    StudentClient,
    issue_codes,
    server_process,
)

from grader.serve import auth  # noqa: E402
from grader.serve.db import Database, attempts  # noqa: E402
from grader.serve.exam import load_exam  # noqa: E402

NAMES = [
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
    "John McCarthy",
]
QUESTIONS = [
    "conv-same-padding",
    "conv-output-size",
    "conv-param-calc",
    "rnn-vanishing",
    "rnn-lstm-gates",
    "opt-adam-bias",
    "opt-adam-calc",
    "train-dropout-test",
]
PASSWORD = "screenshots only"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from grader.quiz.bank import load

    bank = load([REPO / "quizzes"])
    chosen = [q for q in QUESTIONS if q in bank.questions]
    chosen += [q for q in sorted(bank.questions) if q.startswith("conv-") and q not in chosen][
        : 10 - len(chosen)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "roster.csv").write_text(
            "id,name,email\n"
            + "".join(
                f"s10{i:05d},{n},{n.split()[0].lower()}@uni.example\n" for i, n in enumerate(NAMES)
            )
        )
        exam_path = folder / "final.yaml"
        exam_path.write_text(
            "title: Deep learning, final exam\nid: dl-final\nmode: exam\n"
            f"questions: [{', '.join(chosen)}]\nn: {len(chosen)}\nseconds_per_question: 90\n"
            "opens: 2000-01-01 09:00\ncloses: 2099-01-01 11:00\nresults: never\n"
            f"roster: roster.csv\nbanks: {REPO / 'quizzes'}\n"
        )
        codes = issue_codes(exam_path)
        database = load_exam(exam_path).database_url()
        db = Database(database)
        with db.write() as conn:
            auth.set_password(db, conn, PASSWORD)
        with server_process(exam_path) as (base, _):
            rng = random.Random(3)
            ids = list(codes)
            for k, sid in enumerate(ids[1:7]):  # the first student is the one in the browser
                st = StudentClient(httpx.Client(base_url=base, follow_redirects=True))
                st.sign_in(codes[sid])
                st.start()
                for _ in range(len(chosen) if k < 2 else rng.randint(1, 6)):
                    q = st.question()
                    st.save(q, rng.randrange(len(q.choices)))
                st.question()
            with db.write() as conn:  # one student has sent nothing for 45 s: a dropped connection
                conn.execute(
                    attempts.update()
                    .where(attempts.c.student == ids[4])
                    .values(last_seen=time.time() - 45)
                )
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                student = browser.new_page(viewport={"width": 960, "height": 640})
                student.goto(base + "/signin")
                student.fill("#code", codes[ids[0]])
                student.keyboard.press("Enter")
                student.locator("button", has_text="Start the exam").press("Enter")
                student.wait_for_selector("text=Question 1 of")
                student.keyboard.press("b")
                time.sleep(3.2)  # the countdown has moved
                student.screenshot(path=str(REPO / "docs" / "exam-student.png"))
                teacher = browser.new_page(viewport={"width": 1100, "height": 700})
                teacher.goto(base + "/instructor")
                teacher.fill("#user", "instructor")
                teacher.fill("#password", PASSWORD)
                teacher.keyboard.press("Enter")
                teacher.wait_for_url(base + "/dashboard")
                teacher.screenshot(path=str(REPO / "docs" / "exam-dashboard.png"), full_page=True)
                teacher.goto(base + "/dashboard/results")
                teacher.screenshot(path=str(REPO / "docs" / "exam-results.png"), full_page=True)
                browser.close()
        db.dispose()
    print("wrote docs/exam-student.png, docs/exam-dashboard.png, docs/exam-results.png")


if __name__ == "__main__":
    main()
