"""Question banks: `quizzes/<topic>.yaml`, read with line numbers, validated, rendered.

A bank file:

    topic: convolution                 # optional; the file name without .yaml by default
    title: Convolutional networks      # optional; shown in history and `quiz topics`
    questions:
      - id: conv-stride-effect         # unique across all banks, stable (history refers to it)
        text: "Markdown, with inline $math$"
        choices: ["...", "...", "..."] # 3 to 6, all different
        answer: 0                      # index of the single correct choice
        explanation: "why; shown after the answer in practice mode"
        difficulty: 1                  # 1 recall; 2 one idea or one step; 3 several steps or a trade-off
        tags: [stride]
        fixed_order: false             # true keeps the order ("none of the above" last)
        kind: reasoning                # optional: recall | calculation | reasoning | code | figure
        calculator: false              # optional: true when the numbers need a calculator
        source: "He et al. 2016, Deep Residual Learning"   # optional: the paper or lecture
        author: "A. Student"           # optional: credit for a student-written question
      - id: conv-output-size
        generator: conv_output_size    # a function of grader/quiz/generators.py
        params: {max_input: 64}        # passed to it; it renders text, choices, answer, explanation
        difficulty: 2
        tags: [output size]
      - id: fig-overfitting
        text: "The figure shows ... What happened?"
        figure: {function: loss_curves, params: {scenario: overfitting}, seed: 0}
        choices: [...]                 # a figure is drawn by grader/quiz/figures.py, never a file

``text`` and ``explanation`` may hold fenced code blocks (```python ... ```): the terminal shows
them highlighted, exports as ``<pre><code>``, and ``$`` or ``_`` inside code is never math.
A question with a code block is of kind ``code`` unless it says otherwise; one with a figure is of
kind ``figure``; a parametric one is a ``calculation``. A generator may render a figure too, and
says (``@generator(name, calculator=True)``) whether its numbers need a calculator.

This module never imports torch, NumPy or matplotlib: the quiz starts in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # figures is imported only for a question that has one
    from grader.quiz.figures import FigureSpec

from grader.paths import write_atomically
from grader.quiz import catalog
from grader.quiz.markup import has_code_block, without_code
from grader.quiz.texmath import readable

MIN_CHOICES, MAX_CHOICES = 3, 6
VALIDATION_SEEDS = 500
KINDS = ("recall", "calculation", "reasoning", "code", "figure")
QUESTION_KEYS = {
    "id",
    "text",
    "choices",
    "answer",
    "explanation",
    "difficulty",
    "tags",
    "fixed_order",
    "generator",
    "params",
    "kind",
    "calculator",
    "source",  # the paper or lecture the question is about
    "author",  # who wrote it (a student's accepted proposal credits them here)
    "figure",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a bank: where (file, line, question id) and what."""

    path: Path
    line: int | None
    qid: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        who = f" [{self.qid}]" if self.qid else ""
        return f"{where}{who}: {self.message}"


@dataclass(frozen=True)
class Rendered:
    """A question ready to show: its text, its choices in bank order, the right one, why; the
    figure it shows (drawn only when shown or exported) and whether a calculator is assumed."""

    text: str
    choices: tuple[str, ...]
    answer: int
    explanation: str
    figure: FigureSpec | None = None
    calculator: bool = False


@dataclass
class Question:
    id: str
    topic: str
    path: Path
    line: int
    difficulty: int = 1
    tags: tuple[str, ...] = ()
    fixed_order: bool = False
    text: str = ""
    choices: tuple[str, ...] = ()
    answer: int = 0
    explanation: str = ""
    generator: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None  # as declared; see effective_kind
    calculator: bool = False
    source: str = ""
    author: str = ""
    figure: FigureSpec | None = None

    def render(self, variant: int) -> Rendered:
        """The question as shown; ``variant`` seeds a parametric question's numbers."""
        if self.generator is None:
            return Rendered(
                self.text,
                self.choices,
                self.answer,
                self.explanation,
                self.figure,
                self.calculator,
            )
        out = catalog.GENERATORS[self.generator](random.Random(variant), **self.params)
        spec = None
        if out.get("figure") is not None:
            from grader.quiz import figures

            spec, why = figures.spec_from(out["figure"])
            if spec is None:
                raise ValueError(f"the generator's figure: {why}")
        return Rendered(
            out["text"],
            tuple(out["choices"]),
            out["answer"],
            out["explanation"],
            spec,
            bool(out.get("calculator", self.calculator)),
        )

    @property
    def effective_kind(self) -> str | None:
        """The declared kind, else what the item shows: a figure, a code block, a generator's
        calculation; None when nothing says (a static item without ``kind``)."""
        if self.kind:
            return self.kind
        if self.figure is not None:
            return "figure"
        if has_code_block(self.text):
            return "code"
        if self.generator is not None:
            info = catalog.INFO.get(self.generator)
            return info.kind if info else "calculation"
        return None


@dataclass
class Bank:
    questions: dict[str, Question]
    titles: dict[str, str]
    problems: list[Problem]

    def topics(self) -> list[str]:
        return sorted({q.topic for q in self.questions.values()})

    def require_topics(self, topics: Iterable[str]) -> None:
        """UserError naming the valid keys if one of ``topics`` is not a topic of the bank."""
        from grader.errors import UserError

        known = self.topics()
        for t in topics:
            if t not in known:
                raise UserError(
                    f"no topic {t!r}; the topics are: {', '.join(known)} "
                    "(`dlgrade quiz topics` lists them with their titles)"
                )


def topic_counts(bank: Bank) -> list[dict[str, Any]]:
    """Per topic, in key order: its key, title, and its questions (static and parametric)."""
    rows = []
    for topic in bank.topics():
        qs = [q for q in bank.questions.values() if q.topic == topic]
        parametric = sum(1 for q in qs if q.generator)
        rows.append(
            {
                "topic": topic,
                "title": bank.titles.get(topic, topic),
                "questions": len(qs),
                "static": len(qs) - parametric,
                "parametric": parametric,
            }
        )
    return rows


# -- reading YAML with line numbers ----------------------------------------------------------
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_Loader):
    """A safe loader that remembers the line of every mapping (as key ``__line__``)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def normalise_choice(choice: str) -> str:
    """What makes two choices the same to a reader: case, spacing, 16 vs 16.0."""
    text = " ".join(choice.split()).lower().strip(" .")
    try:
        return repr(float(text.replace(",", "")))
    except ValueError:
        return text


def check_rendered(r: Any) -> str | None:
    """Why a rendered question is unusable, or None."""
    if not isinstance(r, Rendered):
        return "the generator must return text, choices, answer and explanation"
    if not r.text.strip():
        return "empty text"
    if not MIN_CHOICES <= len(r.choices) <= MAX_CHOICES:
        return f"{len(r.choices)} choices; a question has {MIN_CHOICES} to {MAX_CHOICES}"
    if not all(isinstance(c, str) and c.strip() for c in r.choices):
        return "every choice must be non-empty text"
    norm = [normalise_choice(c) for c in r.choices]
    if len(set(norm)) != len(norm):
        dup = next(c for c, n in zip(r.choices, norm, strict=True) if norm.count(n) > 1)
        return f"duplicate or ambiguous choices ({dup!r} twice)"
    if (
        not isinstance(r.answer, int)
        or isinstance(r.answer, bool)
        or not 0 <= r.answer < len(r.choices)
    ):
        return f"answer {r.answer!r} is not the index of a choice (0 to {len(r.choices) - 1})"
    if not r.explanation.strip():
        return "empty explanation"
    return None


def _parse_question(
    raw: Any, path: Path, topic: str, index: int, problems: list[Problem]
) -> Question | None:
    if not isinstance(raw, dict):
        problems.append(Problem(path, None, None, f"question {index + 1} is not a mapping"))
        return None
    line = raw.pop("__line__", None)
    qid = raw.get("id")

    def bad(message: str) -> None:
        problems.append(Problem(path, line, qid if isinstance(qid, str) else None, message))

    if not isinstance(qid, str) or not qid.strip():
        bad("missing id")
        return None
    for key in sorted(set(raw) - QUESTION_KEYS):
        bad(f"unknown field {key!r}")
    difficulty = raw.get("difficulty", 1)
    if difficulty not in (1, 2, 3):
        bad(f"difficulty must be 1, 2 or 3, not {difficulty!r}")
    tags = raw.get("tags", [])
    if not _strings(tags):
        bad("tags must be a list of strings")
        tags = []
    q = Question(
        id=qid,
        topic=topic,
        path=path,
        line=line or 0,
        difficulty=difficulty if difficulty in (1, 2, 3) else 1,
        tags=tuple(tags),
        fixed_order=bool(raw.get("fixed_order", False)),
    )
    _metadata(q, raw, bad)
    if "generator" in raw:
        name = raw["generator"]
        params = raw.get("params", {})
        if name not in catalog.GENERATORS:
            bad(f"unknown generator {name!r} (known: {', '.join(sorted(catalog.GENERATORS))})")
            return None
        if not isinstance(params, dict):
            bad("params must be a mapping")
            return None
        for key in ("text", "choices", "answer", "explanation", "figure"):
            if key in raw:
                bad(f"a parametric question renders its own {key}; remove it")
        info = catalog.INFO.get(name)
        if info is not None and info.calculator:
            if raw.get("calculator") is False:
                bad(f"generator {name} needs a calculator; remove `calculator: false`")
            q.calculator = True
        q.generator, q.params = name, {k: v for k, v in params.items() if k != "__line__"}
        return q
    if "figure" in raw:
        from grader.quiz import figures

        q.figure, why = figures.spec_from(raw["figure"])
        if why:
            bad(why)
    missing = [key for key in ("text", "choices", "answer", "explanation") if key not in raw]
    for key in missing:
        bad(f"missing field {key!r}")
    if not _strings(raw.get("choices")):
        if "choices" in raw:
            bad("choices must be a list of strings")
        return None
    q.text = str(raw.get("text", ""))
    q.choices = tuple(raw["choices"])
    q.answer = raw.get("answer", -1)
    q.explanation = str(raw.get("explanation") or "")
    problem = check_rendered(Rendered(q.text, q.choices, q.answer, q.explanation))
    if problem and not missing:
        bad(problem)
    return q


def _metadata(q: Question, raw: dict[str, Any], bad: Callable[[str], None]) -> None:
    """The optional fields: kind, calculator, source, author."""
    kind = raw.get("kind")
    if kind is not None:
        if kind in KINDS:
            q.kind = kind
        else:
            bad(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    calculator = raw.get("calculator", False)
    if isinstance(calculator, bool):
        q.calculator = calculator
    else:
        bad(f"calculator must be true or false, not {calculator!r}")
    for key in ("source", "author"):
        value = raw.get(key, "")
        if isinstance(value, str):
            setattr(q, key, value.strip())
        else:
            bad(f"{key} must be text, not {value!r}")


def check_question(raw: dict[str, Any], path: Path, topic: str) -> list[Problem]:
    """Everything wrong with one question written as a mapping, by the rules of a bank file
    (a proposed question is checked by this before it can enter a bank)."""
    problems: list[Problem] = []
    _parse_question(dict(raw), path, topic, 0, problems)
    return problems


def _cache_file(path: Path) -> Path:
    from grader.paths import data_home

    key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:20]
    return data_home() / "cache" / "banks" / f"{key}.json"


def _read_yaml(path: Path) -> Any:
    """The file's data (mappings with their ``__line__``), from a JSON cache while the file is
    unchanged: parsing YAML is most of the time a quiz takes to start."""
    stat = path.stat()
    stamp = [stat.st_mtime_ns, stat.st_size]
    cache = _cache_file(path)
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached["stamp"] == stamp:
            return cached["data"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    try:
        write_atomically(cache, json.dumps({"stamp": stamp, "data": data}))
    except (OSError, TypeError, ValueError):
        pass  # no cache (a read-only home, YAML dates): just slower next time
    return data


def load_file(path: Path, problems: list[Problem]) -> tuple[str, str, list[Question]]:
    """(topic, title, questions) of one bank file; problems are appended, never raised."""
    try:
        data = _read_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem(path, line, None, f"YAML syntax: {getattr(exc, 'problem', exc)}"))
        return path.stem, path.stem, []
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(path, None, None, f"cannot read: {exc}"))
        return path.stem, path.stem, []
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        problems.append(Problem(path, 1, None, "a bank is a mapping with a list `questions`"))
        return path.stem, path.stem, []
    topic = str(data.get("topic", path.stem))
    title = str(data.get("title", topic))
    found = [
        _parse_question(raw, path, topic, i, problems) for i, raw in enumerate(data["questions"])
    ]
    return topic, title, [q for q in found if q is not None]


def bank_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p]
    return files


def load(paths: list[Path]) -> Bank:
    """Every bank under ``paths`` (files or folders), with the problems found while reading."""
    problems: list[Problem] = []
    questions: dict[str, Question] = {}
    titles: dict[str, str] = {}
    for path in bank_files(paths):
        topic, title, found = load_file(path, problems)
        titles[topic] = title
        for q in found:
            if q.id in questions:
                first = questions[q.id]
                problems.append(
                    Problem(
                        path, q.line, q.id, f"duplicate id (first at {first.path}:{first.line})"
                    )
                )
                continue
            questions[q.id] = q
    return Bank(questions, titles, problems)


SIGN_SLIP = re.compile(r"[-+−]\s?-\s?\d")  # "− -2", "+ -1", "- -0.5": write "+ 2", "− 1"


def sign_slip(r: Rendered) -> str | None:
    """A double sign such as ``− -2`` in the text, a choice or the explanation, or None."""
    for part in (r.text, *r.choices, r.explanation):
        for shown in (part, readable(part)):
            m = SIGN_SLIP.search(without_code(shown))
            if m:
                return f"double sign {m.group(0)!r}: write the subtraction of a negative as an addition"
    return None


def _render_problem(q: Question, seed: int, checked: set[str]) -> str | None:
    """What is wrong with ``q`` rendered on ``seed``: unusable, a double sign, a broken figure."""
    try:
        r = q.render(seed)
    except Exception as exc:  # a generator is code: report, don't crash
        return f"raised {type(exc).__name__}: {exc}"
    problem = (check_rendered(r) if q.generator else None) or sign_slip(r)  # static: at load
    if problem is None and r.figure is not None and repr(r.figure) not in checked:
        from grader.quiz import figures

        checked.add(repr(r.figure))
        problem = figures.check(r.figure)
    return problem


def validate(paths: list[Path], seeds: int = VALIDATION_SEEDS) -> list[Problem]:
    """Everything wrong with the banks, parametric questions rendered on ``seeds`` seeds: unusable
    renders, double signs (``− -2``), figures that cannot be drawn."""
    bank = load(paths)
    problems = list(bank.problems)
    checked: set[str] = set()
    for q in bank.questions.values():
        for seed in range(seeds if q.generator else 1):
            problem = _render_problem(q, seed, checked)
            if problem:
                where = f"generator {q.generator}, seed {seed}: " if q.generator else ""
                problems.append(Problem(q.path, q.line, q.id, where + problem))
                break
    if not bank.questions and not problems:
        problems.append(Problem(Path(", ".join(map(str, paths))), None, None, "no questions found"))
    return problems
