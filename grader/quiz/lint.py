"""The bank linter: what lets a test-wise student score without knowing the answer.

Per file and overall it measures, over the static questions, the share whose key is strictly
the longest choice and the share where only distractors carry absolute words ("always",
"never", "only"...), a file over :data:`MAX_SHARE` on either failing; and the share whose key
alone repeats a content word or number of the stem (*stem echo*), a file over
:data:`MAX_ECHO_SHARE` failing. It also reports the mix of kinds (recall, calculation,
reasoning, code, figure) and the share of level-3 items, and finds problems of single
questions: duplicate stems; a generator (or a concept) behind two entries; a generator whose
distractor (nearly) equals its key on any of 500 seeds; compound choices ("0.73 and 0.92")
whose key is the most frequent value in each part (*majority cue*, static items and generators
on 500 seeds); a generator showing its key and distractors with different precision (*precision
cue*); a stem that asks "which is NOT" while a choice carries a negation (a double negative); a
choice that denies the premise of a stem that presupposes it ("Why is ...?" answered "It is
not"); and a stem that asks nothing (a bare "Early stopping").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.quiz import catalog
from grader.quiz.bank import KINDS, VALIDATION_SEEDS, Bank, Problem, Question
from grader.quiz.generators import too_close
from grader.quiz.markup import without_code
from grader.quiz.texmath import readable

MAX_SHARE = 0.35
# Stem echo: the key alone repeats a word of the stem. In the original bank 71 of 589 static
# items (12 %) had it, up to 31 % of a file; in the revised bank none has. A distractor alone
# echoes the stem in 37 % of the items, so "pick the choice that repeats the stem" now points
# away from the key. 10 % leaves room for the odd item where the echo is the point (a term the
# question is about) without letting a file drift back to the old share.
MAX_ECHO_SHARE = 0.10
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
    echo: int = 0  # ... whose key alone repeats a content word or number of the stem
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
        if self.share(self.echo) > MAX_ECHO_SHARE:
            why.append(f"key alone echoes the stem in {self.share(self.echo):.0%}")
        return why

    def add(self, other: Figures) -> None:
        for name in ("static", "key_longest", "absolute_distractors", "echo", "items", "level3"):
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
            "stem_echo": self.echo,
            "stem_echo_share": round(self.share(self.echo), 4),
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
            "max_echo_share": MAX_ECHO_SHARE,
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
            f.echo += bool(stem_echo(q))
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
        info = catalog.INFO.get(q.generator)
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
    problems += static_cues(bank)
    problems += generator_cues(bank, seeds)
    return Report(files, overall, problems)


# -- stem echo ------------------------------------------------------------------------------------
STOP_WORDS = frozenset(
    """a an the of to in on at by for with from as and or but if then than that this these those
    it its it's is are was were be been being do does did done has have had having not no nor so
    such what which who whom whose why how when where while into onto over under up down out about
    after before again once here there all any both each few more most other some own same too very
    can will just should now also only their they them he she his her we you your our us i me my
    can't cannot may might must would could per via between through during because since whether
    either neither rather instead one e.g i.e etc""".split()
)
_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?|[^\W\d_]+(?:['’-][^\W\d_]+)*", re.U)
_FENCE = re.compile(r"```.*?```", re.S)
# sub- and superscripts: "hⱼ" and "cₜ" are one-letter symbols, like "x"
_SCRIPTS = str.maketrans("", "", "₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ⁰¹²³⁴⁵⁶⁷⁸⁹ⁱⁿ′")


def _stemmed(word: str) -> str:
    """A light stemmer: case folded, plural to singular (``layers`` → ``layer``, ``entries`` →
    ``entry``), thousands separators dropped (``10,000`` → ``10000``)."""
    w = word.lower().replace("’", "'")
    if w.lstrip("-")[:1].isdigit():
        return w.replace(",", "")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "ches", "shes", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def content_words(text: str) -> set[str]:
    """The content words and numbers of ``text`` as shown (math rendered; fenced code dropped,
    inline code kept as words), stemmed lightly; stop words, single letters and single digits
    left out (a "2" in a stem and in a key is a coincidence, a "10,000" or a "0.5" is not)."""
    shown = _FENCE.sub(" ", readable(text)).replace("`", " ").replace("−", "-")
    words = set()
    for m in _TOKEN.finditer(shown):
        w = m.group(0)
        if w.lower() in STOP_WORDS or len(w.lstrip("-").translate(_SCRIPTS)) < 2:
            continue  # single letters and single digits (x, 2) say nothing
        words.add(_stemmed(w))
    return words - STOP_WORDS


def stem_echo(q: Question) -> set[str]:
    """The content words (and numbers) of the stem that the key repeats and no distractor does:
    a test-wise student picks the one choice that "sounds like the question". Nothing when the
    stem itself lists every choice."""
    stem = content_words(q.text)
    words = [content_words(c) for c in q.choices]
    if all(w <= stem for w in words):
        return set()  # the stem lists the choices ("queen, prince or princess?"): no cue
    echoed = [w & stem for w in words]
    others = set().union(*(e for i, e in enumerate(echoed) if i != q.answer))
    return echoed[q.answer] - others


# -- compound choices: the majority cue ---------------------------------------------------------------
_PART_SEPARATOR = re.compile(
    r"\s+and\s+|\s+against\s+|\s+vs\.?\s+|,\s*then\s+|\s+then\s+|;\s+|\s+/\s+"
    r"|(?<=[\])])\s+(?=[\[(])"
)
MAX_PART = 30  # a "part" longer than this is prose, not a value


def _tuple_parts(text: str) -> list[str]:
    """``(3, 4)`` → ["3", "4"]; ``[[4, 5], [6, 3]]`` → ["[4, 5]", "[6, 3]"]; anything else →
    [text]. A comma before three digits is a thousands separator ("(1,000, 2)")."""
    t = text.strip().rstrip(".")
    if len(t) > 2 and t[0] in "([" and t[-1] in ")]":
        inner = t[1:-1]
        if any(b in inner for b in "(["):
            parts = _split_commas(inner)
        else:
            parts = [p for p in re.split(r",\s+|,(?!\d{3}\b)", inner) if p]
        if len(parts) > 1:
            return [p.strip() for p in parts]
    return [t]


def _split_commas(text: str) -> list[str]:
    """``text`` split at the commas followed by a space outside brackets ("Mean 4, variance 4"
    → two pieces; "1,000 s" stays whole)."""
    pieces, depth, cur = [], 0, ""
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0 and text[i + 1 : i + 2].isspace():
            pieces.append(cur.strip())
            cur = ""
        else:
            cur += ch
    pieces.append(cur.strip())
    return pieces


def choice_parts(choice: str) -> list[str]:
    """The values a compound choice is made of: "0.73 and 0.92" → ["0.73", "0.92"];
    "(3, 4) and 12" → ["3", "4", "12"]; "Mean 4, variance 4" → ["Mean 4", "variance 4"]."""
    shown = " ".join(readable(choice).split())
    parts: list[str] = []
    for piece in _PART_SEPARATOR.split(shown):
        for sub in _split_commas(piece):
            parts += _tuple_parts(sub)
    return [p.replace("−", "-") for p in parts if p]


_PART_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")


def _part_value(part: str) -> str:
    """What a part says: its number when it holds exactly one ("After epoch 9" → "9", "≈ 0.73
    with scaling" → "0.73"), else its words."""
    numbers = _PART_NUMBER.findall(part.replace(",", ""))
    return numbers[0] if len(numbers) == 1 else " ".join(part.lower().split())


def majority_cue(choices: tuple[str, ...] | list[str], answer: int) -> bool:
    """The choices are made of the same number (2 or more) of short parts, and the key is the one
    choice a test-wise student would build by taking, in each part, the value most choices show:
    its parts' frequencies add up to strictly more than any distractor's. A grid of distractors
    (each part's values appearing equally often) has no such cue."""
    split = [choice_parts(c) for c in choices]
    n = len(split[0])
    if n < 2 or any(len(p) != n for p in split) or any(len(x) > MAX_PART for p in split for x in p):
        return False
    split = [[_part_value(x) for x in p] for p in split]
    counts = [Counter(p[i] for p in split) for i in range(n)]
    score = [sum(counts[i][p[i]] for i in range(n)) for p in split]
    return score[answer] > max(s for i, s in enumerate(score) if i != answer)


# -- generators: the precision cue ------------------------------------------------------------------
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def precision_cue(choices: tuple[str, ...] | list[str]) -> int | None:
    """For numeric choices (a number, or a tuple of numbers), the first part (0-based) whose
    numbers are not shown with one precision: each part must be shown either without a decimal
    point in every choice (integers, exact fractions such as 1/8) or with the same number of
    decimals in every choice. None when consistent (or not numeric)."""
    split = [[p.replace("−", "-") for p in _tuple_parts(" ".join(c.split()))] for c in choices]
    n = len(split[0])
    if any(len(p) != n for p in split):
        return None
    for i in range(n):
        shown = [p[i] for p in split]
        if not all(_NUMBER.match(x) or re.match(r"^-?\d+/\d+$", x) for x in shown):
            continue
        decimals = {len(x.split(".")[1]) if "." in x else 0 for x in shown}
        if len(decimals) > 1:
            return i
    return None


# -- negation and premises --------------------------------------------------------------------------
_NEGATED_STEM = re.compile(r"\b(?:which|what)\b[^?]*\b(?:not|except|false)\b[^?]*\?\s*$", re.I)
_NEGATION = re.compile(r"\b(?:not|no|never|none|nothing|neither|nor|cannot)\b|n't\b", re.I)
_PRESUPPOSES = re.compile(
    r"(?:^|[.:]\s+)why\b[^?]*\?|\bwhat\s+(?:is|was|went)\s+wrong\b|\bwhat\s+is\s+the\s+(?:bug|flaw)\b"
    r"|\btoo\s+optimistic\b",
    re.I,
)
_DENIAL = re.compile(
    "|".join(
        (
            r"^(?:it|this|they|that|there|he|she)\s+(?:is|are|was|were|does|do|did|has|have)"
            r"(?:\s+not|n't)\b",
            r"^(?:it|this|they)\s+(?:need|must|should)\s+not\b",
            r"^(?:it|this|they)\s+(?:does|do)\s+not\s+have\s+to\b",
            r"^(?:they|the\s+two)\s+are\s+the\s+same\b",
            r"^(?:nothing|none)\b",
            r"^no\b[,:]",
            r"^it\s+is\s+fine\b",
            r"^there\s+is\s+no\s+(?:problem|bug|flaw|error)\b",
        )
    ),
    re.I,
)


def _prose(text: str) -> str:
    """``text`` as shown, without code, on one line."""
    return " ".join(without_code(readable(text)).split())


def double_negative(q: Question) -> bool:
    """The stem asks for the exception ("Which is NOT ...?") and some choice carries a negation
    too: a double negative that tests reading, not knowledge."""
    if not _NEGATED_STEM.search(_prose(q.text)):
        return False
    return any(_NEGATION.search(without_code(readable(c))) for c in q.choices)


def denies_premise(q: Question) -> list[int]:
    """The choices that deny what the stem presupposes ("Why is the accuracy too optimistic?"
    answered "It is not: ..."; "What is wrong?" answered "Nothing"): the stem rules them out
    before any knowledge is used. Neutral stems ("What, if anything, is wrong?") are fine."""
    stem = _prose(q.text)
    if re.search(r"\bif\s+anything\b|\bif\s+at\s+all\b|\bif\s+so\b", stem, re.I):
        return []
    if not _PRESUPPOSES.search(stem):
        return []
    return [i for i, c in enumerate(q.choices) if _DENIAL.search(_prose(c))]


MIN_STEM_WORDS = 5


def asks_nothing(q: Question) -> bool:
    """A stem that poses no question: no question mark, and either fewer than
    :data:`MIN_STEM_WORDS` words of prose (a bare "Early stopping") or a dangling comma."""
    prose = _prose(q.text)
    if "?" in prose:
        return False
    return len(prose.split()) < MIN_STEM_WORDS or prose.endswith(",")


def static_cues(bank: Bank) -> list[Problem]:
    """The problems of single static questions: a majority cue, a double negative, a choice that
    denies the stem's premise, a stem that asks nothing."""
    problems = []
    for q in _in_file_order(bank):
        if q.generator is not None:
            continue
        found = []
        if majority_cue(q.choices, q.answer):
            found.append(
                "majority cue: the key is the most frequent value in each part of the choices "
                "(make the distractors a grid: each part's values equally often)"
            )
        if double_negative(q):
            found.append("double negative: the stem asks for the exception and a choice negates")
        for i in denies_premise(q):
            found.append(
                f"choice {i + 1} denies what the stem presupposes ({q.choices[i][:40]!r}...): "
                "the stem rules it out; ask neutrally ('What, if anything, ...?')"
            )
        if asks_nothing(q):
            found.append("the stem asks nothing: make it a question or a complete lead-in")
        problems += [Problem(q.path, q.line, q.id, m) for m in found]
    return problems


def generator_cues(bank: Bank, seeds: int = VALIDATION_SEEDS) -> list[Problem]:
    """A generator that, on any of ``seeds`` seeds, shows a majority cue or shows its numbers with
    different precision (the first such seed is reported, for each cue)."""
    problems = []
    for q in _in_file_order(bank):
        if q.generator is None:
            continue
        majority = precision = None
        for seed in range(seeds):
            try:
                r = q.render(seed)
            except Exception:  # validate() reports generators that raise
                break
            if majority is None and majority_cue(r.choices, r.answer):
                majority = (seed, r.choices)
            if precision is None and precision_cue(r.choices) is not None:
                precision = (seed, r.choices)
            if majority and precision:
                break
        if majority:
            problems.append(
                Problem(
                    q.path,
                    q.line,
                    q.id,
                    f"generator {q.generator}, seed {majority[0]}: majority cue in "
                    f"{list(majority[1])!r} (the key is the most frequent value in each part)",
                )
            )
        if precision:
            problems.append(
                Problem(
                    q.path,
                    q.line,
                    q.id,
                    f"generator {q.generator}, seed {precision[0]}: precision cue in "
                    f"{list(precision[1])!r} (show every choice exactly, or all with the same "
                    "number of decimals)",
                )
            )
    return problems
