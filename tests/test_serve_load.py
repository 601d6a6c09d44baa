"""A small version of the exam server's load test (benchmarks/serve_load.py): 20 students answer 5
questions each at once on a real server on 127.0.0.1; not one acknowledged answer is lost or
recorded twice. The latency is measured by the full benchmark, not asserted here."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

pytest.importorskip("starlette")
sys.path.insert(0, str(REPO / "benchmarks"))

import serve_load  # noqa: E402


def test_twenty_students_at_once_lose_and_duplicate_no_answer() -> None:
    result = serve_load.run(students=20, questions=5, think=(0.0, 0.2), ramp=1.0, time_limit=120)
    assert result["error_count"] == 0, result["errors"]
    assert result["saves"] == 100 and result["acknowledged"] == 100 and result["stored"] == 100
    assert result["lost"] == 0 and result["duplicated"] == 0
    assert result["finished"] == 20
