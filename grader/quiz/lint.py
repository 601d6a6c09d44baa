"""The bank linter: what lets a test-wise student score without knowing the answer.

Per file and overall it measures, over the static questions, the share whose key is strictly
the longest choice and the share where only distractors carry absolute words ("always",
"never", "only"...); a file over :data:`MAX_SHARE` on either fails. It also reports the mix of
kinds (recall, calculation, reasoning, code, figure) and the share of level-3 items, and finds
problems of single questions: duplicate stems, a generator (or a concept) behind two entries,
and a generator whose distractor (nearly) equals its key on any of 500 seeds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.quiz import generators
from grader.quiz.bank import KINDS, VALIDATION_SEEDS, Bank, Problem, Question
from grader.quiz.generators import too_close
from grader.quiz.markup import without_code
from grader.quiz.texmath import readable

MAX_SHARE = 0.35
LEVEL3_TARGET = 0.25
ABSOLUTE_WORDS = (
    "always",
    "never",
    "only",
    "cannot",
    "can't",
    "all",
    "none",
    "must",
    "every",
    "impossible",
    "guaranteed",
    "guarantees",
)
_ABSOLUTE = re.compile(r"\b(?:" + "|".join(map(re.escape, ABSOLUTE_WORDS)) + r")\b", re.I)


@dataclass
class Figures:
    """The linter's counts for one file (or for all files together)."""

    name: str
    static: int = 0  # questions with fixed text and choices
    key_longest: int = 0  # ... whose key is strictly the longest choice
    absolute_distractors: int = 0  # ... where only distractors carry absolute words
    items: int = 0  # every entry, static and parametric
    level3: int = 0
    calculator: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def share(self, count: int, of: int | None = None) -> float:
        total = self.static if of is None else of
        return count / total if total else 0.0

    @property
    def failed(self) -> list[str]:
        """What puts the file over the limit (empty: it passes)."""
        why = []
        if self.share(self.key_longest) > MAX_SHARE:
            why.append(f"key longest in {self.share(self.key_longest):.0%}")
        if self.share(self.absolute_distractors) > MAX_SHARE:
            why.append(f"only distractors absolute in {self.share(self.absolute_distractors):.0%}")
        return why

    def add(self, other: Figures) -> None:
        for name in ("static", "key_longest", "absolute_distractors", "items", "level3"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.calculator += other.calculator
        self.kinds.update(other.kinds)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "static": self.static,
            "items": self.items,
            "key_longest": self.key_longest,
            "key_longest_share": round(self.share(self.key_longest), 4),
            "absolute_only_in_distractors": self.absolute_distractors,
            "absolute_only_in_distractors_share": round(self.share(self.absolute_distractors), 4),
            "level3": self.level3,
            "level3_share": round(self.share(self.level3, self.items), 4),
            "calculator": self.calculator,
            "kinds": {k: self.kinds.get(k, 0) for k in (*KINDS, "unlabelled")},
            "passed": not self.failed,
        }


@dataclass
class Report:
    files: list[Figures]
    overall: Figures
    problems: list[Problem]

    @property
    def passed(self) -> bool:
        return not self.problems and not any(f.failed for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "max_share": MAX_SHARE,
            "level3_target": LEVEL3_TARGET,
            "files": [f.to_json() for f in self.files],
            "overall": self.overall.to_json(),
            "problems": [
                {"path": str(p.path), "line": p.line, "id": p.qid, "message": p.message}
                for p in self.problems
            ],
        }


def _length(choice: str) -> int:
    return len(" ".join(readable(choice).split()))


def key_is_longest(q: Question) -> bool:
    """The right choice is strictly longer (as shown) than every other."""
    lengths = [_length(c) for c in q.choices]
    key = lengths[q.answer]
    return all(key > n for i, n in enumerate(lengths) if i != q.answer)


def absolute(text: str) -> bool:
    """``text`` (outside code) carries an absolute word."""
    return _ABSOLUTE.search(without_code(readable(text))) is not None


def only_distractors_absolute(q: Question) -> bool:
    """Some distractor carries an absolute word and the key carries none."""
    if absolute(q.choices[q.answer]):
        return False
    return any(absolute(c) for i, c in enumerate(q.choices) if i != q.answer)


def file_figures(name: str, questions: list[Question]) -> Figures:
    f = Figures(name)
    for q in questions:
        f.items += 1
        f.level3 += q.difficulty == 3
        f.calculator += q.calculator
        f.kinds[q.effective_kind or "unlabelled"] += 1
        if q.generator is None:
            f.static += 1
            f.key_longest += key_is_longest(q)
            f.absolute_distractors += only_distractors_absolute(q)
    return f


def _stem(q: Question) -> str:
    words = re.sub(r"[^\w]+", " ", readable(q.text).lower())
    return " ".join(words.split()) + (f" |{q.figure!r}" if q.figure else "")


def duplicate_stems(bank: Bank) -> list[Problem]:
    """Two static questions asking the same thing (same words once case, spacing and
    punctuation are ignored; the same figure, if any)."""
    first: dict[str, Question] = {}
    problems = []
    for q in _in_file_order(bank):
        if q.generator is not None:
            continue
        key = _stem(q)
        if key in first:
            other = first[key]
            problems.append(
                Problem(
                    q.path,
                    q.line,
                    q.id,
                    f"duplicate stem: {other.id} at {other.path}:{other.line} asks the same",
                )
            )
        else:
            first[key] = q
    return problems


def one_concept_one_question(bank: Bank) -> list[Problem]:
    """A generator, or a generator's declared concept, behind more than one entry: the same item
    could appear twice in one quiz."""
    seen: dict[str, Question] = {}
    problems = []
    for q in _in_file_order(bank):
        if q.generator is None:
            continue
        info = generators.INFO.get(q.generator)
        concept = info.concept if info else q.generator
        if concept in seen:
            other = seen[concept]
            what = (
                f"generator {q.generator} also backs"
                if other.generator == q.generator
                else f"concept {concept!r} (generator {q.generator}) is also behind"
            )
            problems.append(
                Problem(
                    q.path,
                    q.line,
                    q.id,
                    f"{what} {other.id} at {other.path}:{other.line}: one concept, one question",
                )
            )
        else:
            seen[concept] = q
    return problems


def near_distractors(bank: Bank, seeds: int = VALIDATION_SEEDS) -> list[Problem]:
    """A generator's distractor within 2 % of its key or within the displayed rounding, on any
    of ``seeds`` seeds (the first such seed is reported)."""
    problems = []
    for q in _in_file_order(bank):
        if q.generator is None:
            continue
        for seed in range(seeds):
            try:
                r = q.render(seed)
            except Exception:  # validate() reports generators that raise
                break
            key = r.choices[r.answer]
            close = [c for i, c in enumerate(r.choices) if i != r.answer and too_close(key, c)]
            if close:
                problems.append(
                    Problem(
                        q.path,
                        q.line,
                        q.id,
                        f"generator {q.generator}, seed {seed}: distractor {close[0]!r} is too "
                        f"close to the key {key!r} (within 2 % or the displayed rounding)",
                    )
                )
                break
    return problems


def _in_file_order(bank: Bank) -> list[Question]:
    return sorted(bank.questions.values(), key=lambda q: (str(q.path), q.line))


def lint(bank: Bank, seeds: int = VALIDATION_SEEDS) -> Report:
    """The linter's figures per file and overall, and the problems of single questions."""
    by_file: dict[Path, list[Question]] = {}
    for q in _in_file_order(bank):
        by_file.setdefault(q.path, []).append(q)
    files = [file_figures(path.name, qs) for path, qs in by_file.items()]
    overall = Figures("overall")
    for f in files:
        overall.add(f)
    problems = duplicate_stems(bank) + one_concept_one_question(bank)
    problems += near_distractors(bank, seeds)
    return Report(files, overall, problems)
