"""The blind set (tests/blind/, see tests/blind.py): every mistake caught, at least 85% named and
none named as a mistake it does not make, every alternative at full marks, every trivial
submission at 0, at the seeds of $DLGRADE_BLIND_SEEDS (one of 1-5 a day by default;
``DLGRADE_BLIND_SEEDS=1-5`` for the whole figure, which ``python benchmarks/mistakes.py
--only blind --seeds 1-5`` also prints)."""

from __future__ import annotations

import blind
import pytest

SEEDS = blind.seeds()
ENTRIES = blind.entries() if blind.available() else ()
MEASURED: dict[tuple[str, int], dict] = {}

pytestmark = pytest.mark.skipif(not ENTRIES, reason="tests/blind/manifest.yaml is missing")


def measured(entry_id: str, seed: int) -> dict:
    if (entry_id, seed) not in MEASURED:
        MEASURED[entry_id, seed] = blind.measure(blind.entry(entry_id), seed)
    return MEASURED[entry_id, seed]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("entry_id", [e.id for e in ENTRIES])
def test_blind_file(entry_id: str, seed: int) -> None:
    """A mistake costs points and names no other mistake; an alternative gets full marks; a
    trivial submission scores 0."""
    row = measured(entry_id, seed)
    if row["kind"] == "mistake":
        assert row["score"] < row["max_score"], f"{entry_id} scores full marks at seed {seed}"
    elif row["kind"] == "alternative":
        assert row["score"] == row["max_score"], (
            f"{entry_id} (correct) scores {row['score']:g} of {row['max_score']:g}: {row['failed']}"
        )
    else:
        assert row["score"] == 0, f"{entry_id} (trivial) scores {row['score']:g}"
    assert not row["wrongly_named"], row["wrongly_named"]


def test_blind_figure() -> None:
    """At least 85% of the mistakes named by a hint at every seed."""
    rows = [measured(e.id, seed) for e in ENTRIES for seed in SEEDS]
    figures = blind.summarise(rows)
    share = figures["named"] / figures["mistakes"]
    assert share >= blind.NAMED_SHARE, (
        f"{figures['named']}/{figures['mistakes']} named ({share:.1%}); not named: "
        f"{sorted(figures['not_named'])}"
    )
    assert figures["caught"] == figures["mistakes"], figures["not_caught"]
    assert figures["full_marks"] == figures["alternatives"], figures["alternatives_short"]
    assert figures["trivial_zero"] == figures["trivial"], figures["trivial_scoring"]
    assert not figures["wrongly_named"], figures["wrongly_named"]
