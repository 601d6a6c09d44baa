"""The interactive quiz: prompt_toolkit drives the terminal, rich renders the text (Markdown).

One full-screen application for the whole quiz, in three phases: a question
(with a live countdown), the feedback after it (practice mode), the end. A
background task ticks the session four times a second, so a question closes
at its deadline even while the user is idle. Text is laid out at the
terminal's width (redrawn when it changes); code blocks are highlighted and a
figure is drawn as a Unicode plot between the question and its choices.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

from prompt_toolkit.application import Application
from prompt_toolkit.formatted_text import ANSI, FormattedText
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import HSplit, Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from rich.console import Console
from rich.markdown import Markdown

from grader.quiz.session import LETTERS, Item, QuizOver, Session, TooLate
from grader.quiz.texmath import readable

WIDTH = 78  # when the terminal's size cannot be read


def _ansi(renderable: object, width: int = WIDTH) -> ANSI:
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, width=width, color_system="standard").print(
        renderable
    )
    return ANSI(buffer.getvalue())


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(seconds + 0.999)
    return f"{s // 60:02d}:{s % 60:02d}"


class QuizApp:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.selected = 0
        self.phase = "question"  # question | feedback | end
        self.feedback_item: Item | None = None
        self.feedback_note = ""
        self.notice = ""
        self.left = False
        kb = KeyBindings()

        @kb.add("up")
        def _(event: object) -> None:
            self._move(-1)

        @kb.add("down")
        def _(event: object) -> None:
            self._move(1)

        for k, letter in enumerate(LETTERS):

            @kb.add(letter)
            def _(event: object, k: int = k) -> None:
                item = self.session.current
                if self.phase == "question" and item is not None and k < len(item.choices):
                    self.selected = k

        @kb.add("enter")
        def _(event: object) -> None:
            self._enter()

        @kb.add("s")
        def _(event: object) -> None:
            if self.phase == "question" and self.session.current is not None:
                self._closed(self.session.skip().item, "skipped")

        @kb.add("c-c")
        @kb.add("c-d")
        def _(event: object) -> None:
            self.left = True
            self.app.exit()

        self.control = FormattedTextControl(self._text, focusable=True, show_cursor=False)
        self.app: Application[None] = Application(
            layout=Layout(HSplit([Window(self.control, wrap_lines=True)])),
            key_bindings=kb,
            full_screen=True,
            mouse_support=False,
        )
        self._render_cache: dict[tuple, ANSI] = {}

    # -- actions -------------------------------------------------------------------------------
    def _move(self, step: int) -> None:
        item = self.session.current
        if self.phase == "question" and item is not None:
            self.selected = (self.selected + step) % len(item.choices)

    def _enter(self) -> None:
        if self.phase == "feedback":
            self.phase = "question"
            self._next()
            return
        if self.phase == "end":
            self.app.exit()
            return
        item = self.session.current
        if item is None:
            return
        letter = self.selected
        try:
            fb = self.session.save(letter)
        except TooLate:
            self._closed(item, "time is up")
            return
        except QuizOver:
            self._next()
            return
        self._closed(fb.item, f"saved: {LETTERS[letter]})")

    def _closed(self, item: Item, note: str) -> None:
        """After a question closes: its feedback (practice) or the next question (exam)."""
        if self.session.mode == "practice":
            self.phase, self.feedback_item, self.feedback_note = "feedback", item, note
        else:
            self.notice = f"question {self.session.position} {note}"
            self._next()
        self.app.invalidate()

    def _next(self) -> None:
        self.selected = 0
        if self.session.show() is None:
            self.phase = "end"
            self.app.exit()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            if self.phase == "question":
                closed = self.session.tick()
                if closed:
                    if self.session.mode == "practice":
                        self._closed(closed[0].item, "time is up")
                    else:
                        self.notice = f"time was up for question {self.session.position}"
                        self._next()
            self.app.invalidate()

    # -- drawing -------------------------------------------------------------------------------
    def _size(self) -> tuple[int, int]:
        """(columns, rows) of the terminal now."""
        try:
            size = self.app.output.get_size()
            return max(20, size.columns - 1), max(10, size.rows)
        except Exception:  # no terminal to ask (a test's dummy output)
            return WIDTH, 24

    def _rendered(self, key: tuple, build: Callable[[], object], width: int) -> list:
        """An ANSI rendering cached per (question, part, width)."""
        full = (*key, width)
        if full not in self._render_cache:
            self._render_cache[full] = _ansi(build(), width)
        return self._render_cache[full].__pt_formatted_text__()

    def _figure(self, item: Item, width: int, rows: int, used: int) -> list:
        """The question's figure as a Unicode plot, as high as the screen leaves room for."""
        spec = item.rendered.figure
        if spec is None:
            return []
        from grader.quiz.figures import terminal

        height = max(8, min(20, rows - used - 3))
        return [("", "\n")] + self._rendered(
            (self.session.position, "figure", height),
            lambda: terminal(spec, min(width, 100), height),
            width,
        )

    def _text(self) -> FormattedText:
        s = self.session
        parts: list = []
        if self.phase == "feedback" and self.feedback_item is not None:
            closed = self.feedback_item
            verdict = (
                ("fg:ansigreen bold", "correct")
                if closed.correct
                else ("fg:ansired bold", "not correct")
            )
            width, _ = self._size()
            parts += [("bold", f"{self.feedback_note}  "), verdict, ("", "\n\n")]
            parts += _ansi(Markdown(readable(closed.rendered.text)), width).__pt_formatted_text__()
            right = f"{LETTERS[closed.answer]}) {readable(closed.choices[closed.answer])}"
            parts += [("bold", f"\nthe answer: {right}\n\n")]
            parts += _ansi(
                Markdown(readable(closed.rendered.explanation)), width
            ).__pt_formatted_text__()
            parts += [("reverse", "\n Enter: next question · Ctrl-C: leave (resume later) ")]
            return FormattedText(parts)
        item = s.current
        if item is None:
            return FormattedText([("", "the quiz is over")])
        total = f" · total {_clock(s.total_remaining())}" if s.total_seconds else ""
        calculator = " · calculator allowed" if item.rendered.calculator else ""
        parts.append(
            (
                "bold",
                f"Question {s.position + 1} of {s.total} · {item.topic} · time left {_clock(s.remaining())}{total}{calculator}\n",
            )
        )
        if self.notice:
            parts.append(("italic", self.notice + "\n"))
        parts.append(("", "\n"))
        width, rows = self._size()
        text = self._rendered(
            (s.position, "text"), lambda: Markdown(readable(item.rendered.text)), width
        )
        parts += text
        used = 6 + len(item.choices) + sum(t.count("\n") for _, t, *_ in text)
        parts += self._figure(item, width, rows, used)
        parts.append(("", "\n"))
        for k, choice in enumerate(item.choices):
            mark = "❯ " if k == self.selected else "  "
            style = "reverse" if k == self.selected else ""
            parts.append((style, f"{mark}{LETTERS[k]}) {readable(choice)}\n"))
        parts.append(
            (
                "reverse",
                "\n ↑/↓ or a-f: select · Enter: save · s: skip · Ctrl-C: leave (resume later) ",
            )
        )
        return FormattedText(parts)

    def run(self) -> bool:
        """Plays the quiz; False if the user left before the end (the attempt stays resumable)."""
        if self.session.show() is None:
            return True

        async def main() -> None:
            task = asyncio.ensure_future(self._ticker())
            try:
                await self.app.run_async()
            finally:
                task.cancel()

        asyncio.run(main())
        return not self.left and self.session.finished


def play_interactive(session: Session) -> bool:
    return QuizApp(session).run()
