"""Questions proposed by students: read from the form, checked by the bank's own rules, and, once
the instructor accepts one, written into a bank file with its author credited.

Accepted questions go to ``<folder>/students-<topic>.yaml`` (the folder is the exam
file's ``proposals_into``, else its banks), a bank file of the same topic that
`dlgrade quiz validate` and the quizzes read like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from grader.paths import write_atomically
from grader.quiz.bank import Bank, check_question, load_file
from grader.quiz.bank import Problem as BankProblem

FIELDS = ("text", "choices", "answer", "explanation", "topic", "source")
MAX_LENGTH = 4000


def from_form(form: dict[str, str], bank: Bank) -> tuple[dict[str, Any], list[str]]:
    """(fields, problems) of a proposal form: choices one per line, the key by its number (1 = the
    first choice); problems are the bank validator's messages, as a student can read them."""
    choices = [line.strip() for line in form.get("choices", "").splitlines() if line.strip()]
    fields: dict[str, Any] = {
        "text": form.get("text", "").strip(),
        "choices": choices,
        "explanation": form.get("explanation", "").strip(),
        "topic": form.get("topic", "").strip(),
        "source": form.get("source", "").strip(),
        "answer": -1,
    }
    problems: list[str] = []
    key = form.get("answer", "").strip()
    if key.isdigit() and 1 <= int(key) <= max(len(choices), 1):
        fields["answer"] = int(key) - 1
    else:
        problems.append(f"the right answer must be the number of a choice (1 to {len(choices)})")
    if fields["topic"] not in bank.topics():
        problems.append(f"choose a topic from the list (not {fields['topic']!r})")
    if not fields["source"]:
        problems.append("name the paper or lecture the question is about")
    for name in ("text", "explanation", "source"):
        if len(fields[name]) > MAX_LENGTH:
            problems.append(f"the {name} is longer than {MAX_LENGTH} characters")
    problems += check(fields, "proposal", Path("proposal"))
    return fields, problems


def as_bank_item(fields: dict[str, Any], qid: str, author: str | None = None) -> dict[str, Any]:
    """The question as a bank file holds it (the key listed first, as the banks' convention is)."""
    choices = list(fields["choices"])
    answer = int(fields["answer"])
    if 0 <= answer < len(choices):
        choices.insert(0, choices.pop(answer))
        answer = 0
    item: dict[str, Any] = {
        "id": qid,
        "text": fields["text"],
        "choices": choices,
        "answer": answer,
        "explanation": fields["explanation"],
        "difficulty": 1,
        "source": fields["source"],
    }
    if author:
        item["author"] = author
    return item


def check(fields: dict[str, Any], qid: str, path: Path) -> list[str]:
    """The bank validator's complaints about these fields, as messages (no file or id)."""
    problems: list[BankProblem] = check_question(as_bank_item(fields, qid), path, fields["topic"])
    return [p.message for p in problems]


def bank_file(folder: Path, topic: str) -> Path:
    return folder / f"students-{topic}.yaml"


def accept(fields: dict[str, Any], qid: str, author: str, folder: Path, bank: Bank) -> Path:
    """Writes the question into the students' bank file of its topic; ValueError with the reason
    if it cannot go in (an id already used, a problem the validator finds in the written file)."""
    if qid in bank.questions:
        raise ValueError(f"the id {qid!r} is already in the banks")
    path = bank_file(folder, fields["topic"])
    old = path.read_text(encoding="utf-8") if path.exists() else None
    data = yaml.safe_load(old) if old else None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        data = {
            "topic": fields["topic"],
            "title": f"{bank.titles.get(fields['topic'], fields['topic'])}: questions by students",
            "questions": [],
        }
    if any(isinstance(q, dict) and q.get("id") == qid for q in data["questions"]):
        raise ValueError(f"the id {qid!r} is already in {path.name}")
    data["questions"].append(as_bank_item(fields, qid, author))
    header = "# Questions proposed by students, accepted by the instructor in the exam dashboard.\n"
    write_atomically(
        path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )
    problems: list[BankProblem] = []
    load_file(path, problems)
    if problems:
        if old is None:
            path.unlink()
        else:
            write_atomically(path, old)
        raise ValueError(f"the bank file would not validate: {problems[0]}")
    return path
