"""The exam server in a real browser: Debian's chromium, headless, driven by Playwright with the
system browser (nothing is downloaded). A student signs in, answers by keyboard, lets a question
time out and finishes; Back and reload never reopen a question; a second student in parallel
gets another order; the instructor sees both live."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("starlette")
playwright = pytest.importorskip("playwright.sync_api")

from serve_helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    issue_codes,
    make_exam,
    server_process,
)

from grader.serve import auth  # noqa: E402
from grader.serve.db import Database  # noqa: E402
from grader.serve.exam import load_exam  # noqa: E402

SECONDS = 15
PASSWORD = "a long instructor password"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _items(database: str, sid: str) -> list:
    db = Database(database)
    try:
        with db.read() as conn:
            attempt = db.attempt_of(conn, sid)
            return [] if attempt is None else db.items_of(conn, attempt.id)
    finally:
        db.dispose()


def _stem(page) -> str:
    return page.locator("legend.stem").inner_text()


def _choices(page) -> list[str]:
    return page.locator("label.choice").all_inner_texts()


def _sign_in(page, base: str, code: str) -> None:
    page.goto(base + "/signin")
    page.fill("#code", code)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/exam")
    page.locator("button", has_text="Start the exam").press("Enter")
    page.wait_for_selector("text=Question 1 of 4")


def _answer(page, letter: str, expect: int) -> None:
    page.locator("input[name=choice]").first.focus()
    page.keyboard.press(letter)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text={'Finished' if expect > 4 else f'Question {expect} of 4'}")


def test_two_students_and_the_instructor_in_a_browser(tmp_path: Path, browser) -> None:
    path = make_exam(tmp_path, n=4, seconds=SECONDS, students=2)
    codes = issue_codes(path)
    database = load_exam(path).database_url()
    db = Database(database)
    with db.write() as conn:
        auth.set_password(db, conn, PASSWORD)
    db.dispose()
    with server_process(path) as (base, _):
        ann = browser.new_context().new_page()
        bob = browser.new_context().new_page()
        teacher = browser.new_context().new_page()
        teacher.goto(base + "/instructor")
        teacher.fill("#user", "instructor")
        teacher.fill("#password", PASSWORD)
        teacher.keyboard.press("Enter")
        teacher.wait_for_url(base + "/dashboard")

        # Ann answers question 1 by keyboard
        _sign_in(ann, base, codes["s001"])
        first = _stem(ann), _choices(ann)
        _answer(ann, "b", 2)
        assert (
            _items(database, "s001")[0].status == "answered"
            and _items(database, "s001")[0].choice == 1
        )
        second = _stem(ann)
        # Back and reload show the open question, never the closed one
        ann.go_back()
        ann.wait_for_load_state()
        assert "Question 2 of 4" in ann.content() and _stem(ann) == second
        ann.reload()
        assert "Question 2 of 4" in ann.content() and _stem(ann) == second
        assert _items(database, "s001")[0].choice == 1

        # Bob starts in parallel; the instructor sees both live
        _sign_in(bob, base, codes["s002"])
        teacher.reload()
        live = teacher.locator("table.live").inner_text()
        assert re.search(r"s001\tStudent 1\tin progress\t1\t", live), live
        assert re.search(r"s002\tStudent 2\tin progress\t0\t", live), live

        # Bob answers all his questions (each within its time) while Ann's question 2 is open
        bob_first = _stem(bob), _choices(bob)
        for expect in (2, 3, 4, 5):
            _answer(bob, "a", expect)

        # Ann lets question 2 run out: the page moves on by itself once the server closed it
        ann.wait_for_selector("text=Question 3 of 4", timeout=(SECONDS + 10) * 1000)
        assert _items(database, "s001")[1].status == "timed_out"
        _answer(ann, "a", 4)
        _answer(ann, "c", 5)
        assert "You saved 3 answers of 4 questions" in ann.content()
        ann.go_back()
        ann.wait_for_load_state()
        assert "Finished" in ann.content() and "Question" not in _page_main(ann)

        # Bob had his own order (questions and choices)
        ann_items, bob_items = _items(database, "s001"), _items(database, "s002")
        assert [(r.qid, r.order) for r in ann_items] != [(r.qid, r.order) for r in bob_items]
        if ann_items[0].qid != bob_items[0].qid or ann_items[0].order != bob_items[0].order:
            assert bob_first != first  # and the pages showed it

        teacher.reload()
        live = teacher.locator("table.live").inner_text()
        assert re.search(r"s001\tStudent 1\tfinished\t3\t4 / 4", live), live
        assert re.search(r"s002\tStudent 2\tfinished\t4\t4 / 4", live), live
        assert "2 finished" in teacher.content()


def _page_main(page) -> str:
    return page.locator("main").inner_text()
