"""What a grading run produces: per-test results and the exercise total."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TestStatus = Literal["passed", "failed", "error", "timeout", "grader_error"]
STATUSES: tuple[TestStatus, ...] = ("passed", "failed", "error", "timeout", "grader_error")
# grader_error: the grader's own code raised (not the submission's call): the instructor's fault,
# never charged to the student; `check` exits 3 and `grade` stops on it


@dataclass
class TestResult:
    """One grader test: its points and, when it did not pass, why."""

    __test__ = False  # not a pytest test class

    name: str
    max_score: float
    status: TestStatus
    message: str = ""
    hint: str | None = None
    hidden: bool = False
    doc: str = ""
    output: str = ""  # what the submission printed during this test (capped)
    function: str | None = None  # the submission's function whose result failed the test
    hint_source: str | None = (
        None  # "mistake", "diagnosis" or "component" (grader/engine/feedback.py)
    )

    @property
    def score(self) -> float:
        return self.max_score if self.status == "passed" else 0.0

    def to_json(self) -> dict[str, Any]:
        """The test object of `dlgrade check --json` (grader/schemas/check.schema.json)."""
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class ExerciseResult:
    """All tests of one exercise for one submission."""

    exercise: str
    tests: list[TestResult]
    seed: int
    submission: str
    hidden_included: bool = False
    notes: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)  # data graders produced on request
    isolation: str | None = None  # the sandbox's isolation level (grader/sandbox/isolation.py)

    @property
    def score(self) -> float:
        return float(sum(t.score for t in self.tests))

    @property
    def max_score(self) -> float:
        return float(sum(t.max_score for t in self.tests))

    @property
    def full_marks(self) -> bool:
        return bool(self.tests) and all(t.status == "passed" for t in self.tests)

    @property
    def grader_errors(self) -> list[TestResult]:
        """The tests whose grader code failed: a problem for the instructor, not the student."""
        return [t for t in self.tests if t.status == "grader_error"]

    def to_json(self) -> dict[str, Any]:
        """The object `dlgrade check --json` prints (grader/schemas/check.schema.json)."""
        data: dict[str, Any] = {
            "exercise": self.exercise,
            "score": self.score,
            "max_score": self.max_score,
            "tests": [t.to_json() for t in self.tests],
        }
        if self.isolation is not None:
            data["isolation"] = self.isolation
        return data
