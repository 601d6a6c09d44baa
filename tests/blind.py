"""The blind set (tests/blind/): realistic submissions written without reading the graders, and
what the graders make of them.

tests/blind/manifest.yaml lists every file: a mistake (one realistic error in an otherwise
correct submission), an alternative (a correct design of its own) or a trivial submission, and
for a mistake the keywords a feedback text must contain to name it (each alternative a list of
words that must all appear, case-insensitive). The files are data: never edited here.
Synonyms the project accepts for a keyword list, where a hint clearly names the same mistake
in other words, are in SYNONYMS below and explained in tests/blind/SYNONYMS.md.

The figure (issue 18): every mistake caught at every seed 1-5; at least 85% named by a hint,
and none named as a mistake it does not make; every alternative at full marks.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import sweeps
import yaml

BLIND = Path(__file__).resolve().parent / "blind"
MANIFEST = BLIND / "manifest.yaml"
FIGURE_SEEDS = [1, 2, 3, 4, 5]
NAMED_SHARE = 0.85

# file -> extra keyword alternatives, each a list of words that must all appear (see SYNONYMS.md)
SYNONYMS: dict[str, list[list[str]]] = {}


@dataclass(frozen=True)
class Entry:
    id: str  # the file, relative to tests/blind/
    exercise: str
    kind: str  # mistake | alternative | trivial
    functions: tuple[str, ...]
    description: str
    keywords: tuple[tuple[str, ...], ...]

    @property
    def path(self) -> Path:
        return BLIND / self.id


def available() -> bool:
    return MANIFEST.is_file()


def seeds() -> list[int]:
    """The seeds of $DLGRADE_BLIND_SEEDS (``1-5`` for the whole figure); by default one seed of
    1 to 5, the next one each day."""
    import os

    spec = os.environ.get("DLGRADE_BLIND_SEEDS") or "sample:1"
    if spec.startswith("sample:"):
        return sweeps.rotation(list(FIGURE_SEEDS), int(spec.split(":", 1)[1]))
    return sweeps.seeds(spec)


@functools.cache
def entries() -> tuple[Entry, ...]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    found = []
    for e in data["entries"]:
        keywords = [list(k) for k in e.get("keywords") or []] + SYNONYMS.get(e["file"], [])
        found.append(
            Entry(
                id=e["file"],
                exercise=e["exercise"],
                kind=e["kind"],
                functions=tuple(e.get("functions") or ()),
                description=e.get("description", ""),
                keywords=tuple(tuple(str(w) for w in k) for k in keywords),
            )
        )
    return tuple(found)


def entry(entry_id: str) -> Entry:
    return next(e for e in entries() if e.id == entry_id)


def names(text: str, keywords: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``text`` contains every word of at least one keyword alternative."""
    low = text.lower()
    return any(
        all(w.lower() in low for w in alternative) for alternative in keywords if alternative
    )


def measure(e: Entry, seed: int) -> dict:
    """One blind file graded with hidden tests at ``seed``: its score, its hints, and whether they
    name its mistake (or another mistake of the exercise, which it does not make)."""
    result = sweeps.grade(e.exercise, e.path, seed)
    # a hint that sends a function to its failing component names a function, not a mistake
    hints = [
        (t.name, t.hint)
        for t in result.tests
        if t.hint and t.status != "passed" and t.hint_source != "component"
    ]
    others = [
        o for o in entries() if o.exercise == e.exercise and o.kind == "mistake" and o.id != e.id
    ]
    wrong = sorted(
        {
            f"{test}: {hint!r} reads as {o.id}"
            for test, hint in hints
            if not names(hint, e.keywords)
            for o in others
            if names(hint, o.keywords)
        }
    )
    return {
        "id": e.id,
        "exercise": e.exercise,
        "kind": e.kind,
        "seed": seed,
        "score": result.score,
        "max_score": result.max_score,
        "named": e.kind == "mistake" and any(names(h, e.keywords) for _, h in hints),
        "hints": hints,
        "wrongly_named": wrong if e.kind == "mistake" else [f"{t}: {h!r}" for t, h in hints],
        "failed": [t.name for t in result.tests if t.status != "passed"],
    }


def summarise(rows: list[dict]) -> dict:
    """The figures over all rows (one per file and seed)."""
    by_id: dict[str, list[dict]] = {}
    for row in rows:
        by_id.setdefault(row["id"], []).append(row)
    mistakes = {i: r for i, r in by_id.items() if r[0]["kind"] == "mistake"}
    alternatives = {i: r for i, r in by_id.items() if r[0]["kind"] == "alternative"}
    trivial = {i: r for i, r in by_id.items() if r[0]["kind"] == "trivial"}
    caught = [i for i, r in mistakes.items() if all(x["score"] < x["max_score"] for x in r)]
    named = [i for i, r in mistakes.items() if all(x["named"] for x in r)]
    named_sometimes = [i for i, r in mistakes.items() if any(x["named"] for x in r)]
    full = [i for i, r in alternatives.items() if all(x["score"] == x["max_score"] for x in r)]
    zero = [i for i, r in trivial.items() if all(x["score"] == 0 for x in r)]
    wrong = {i: sorted({w for x in r for w in x["wrongly_named"]}) for i, r in by_id.items()}
    return {
        "seeds": sorted({row["seed"] for row in rows}),
        "mistakes": len(mistakes),
        "caught": len(caught),
        "not_caught": {
            i: [x["seed"] for x in r if x["score"] >= x["max_score"]]
            for i, r in mistakes.items()
            if i not in caught
        },
        "named": len(named),
        "named_at_some_seed": len(named_sometimes),
        "not_named": {
            i: {
                "seeds": [x["seed"] for x in r if not x["named"]],
                "hints": sorted({h for x in r for _, h in x["hints"]}),
            }
            for i, r in mistakes.items()
            if i not in named
        },
        "wrongly_named": {i: w for i, w in wrong.items() if w},
        "alternatives": len(alternatives),
        "full_marks": len(full),
        "alternatives_short": {
            i: [(x["seed"], x["score"], x["failed"]) for x in r if x["score"] < x["max_score"]]
            for i, r in alternatives.items()
            if i not in full
        },
        "trivial": len(trivial),
        "trivial_zero": len(zero),
        "trivial_scoring": {
            i: [(x["seed"], x["score"]) for x in r if x["score"] > 0]
            for i, r in trivial.items()
            if i not in zero
        },
    }


def print_summary(figures: dict, out=sys.stdout) -> None:
    m = figures["mistakes"]
    print(f"blind set, seeds {figures['seeds']}:", file=out)
    print(f"  mistakes caught at every seed: {figures['caught']}/{m}", file=out)
    share = figures["named"] / m if m else 0.0
    print(
        f"  named at every seed: {figures['named']}/{m} = {share:.1%} "
        f"(at some seed: {figures['named_at_some_seed']})",
        file=out,
    )
    print(
        f"  alternatives at full marks: {figures['full_marks']}/{figures['alternatives']}", file=out
    )
    print(f"  trivial at 0: {figures['trivial_zero']}/{figures['trivial']}", file=out)
    for title, key in [
        ("not caught", "not_caught"),
        ("not named", "not_named"),
        ("wrongly named", "wrongly_named"),
        ("alternatives short of full marks", "alternatives_short"),
        ("trivial scoring", "trivial_scoring"),
    ]:
        if figures[key]:
            print(f"  {title}:", file=out)
            for i, detail in figures[key].items():
                print(f"    {i}: {detail}", file=out)
