"""LMS in and out: the submission downloads of Canvas, Moodle and Gradescope unpacked into the
submissions layout, and grades written back as the gradebook CSV each LMS imports.

In (`dlgrade import canvas|moodle|gradescope ARCHIVE --out SUBMISSIONS`):

- Canvas ("Download Submissions"): one zip, files named ``<login>_<user id>_<submission id>_<file>``
  (``<login>_LATE_<user id>_...`` when late; a resubmitted file gets ``-1``, ``-2`` before its
  extension, which the grader reads as the same name). The roster (the gradebook's "Export"
  CSV: Student, ID, SIS User ID, SIS Login ID, Section) names each student by their SIS id.
- Moodle ("Download all submissions"): ``<Full Name>_<participant id>_assignsubmission_file_/<file>``
  (or the file name after the last ``_`` in older versions). The grading worksheet (Identifier
  "Participant N", Full name, Email address, "Last modified (submission)") gives the email and
  the submission time.
- Gradescope ("Export Submissions"): ``submission_<id>/`` folders and ``submission_metadata.yml``
  (``:submitters:`` with ``:name:``, ``:sid:``, ``:email:``; ``:created_at:``).

Each becomes ``SUBMISSIONS/<student id>/<file>``, with ``SUBMISSIONS/_students.csv`` (who each
folder is in the LMS) and ``SUBMISSIONS/_submitted.csv`` (when they handed in, for late days).
Archives are read with ``zipfile`` only: no member is written outside its student's folder, no
link is made, and a member that is too large is skipped with a note.

Out (`dlgrade gradebook canvas|moodle|plain GRADES --out FILE`): the grades of ``grades.csv`` (the
``grade`` column when the run had an assignment, else ``total``), as ``grader/gradebook.py``
writes them for that LMS, with each student's LMS identity from ``_students.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from grader.errors import UserError
from grader.instructor.submissions import SAFE_ID, is_junk

MAX_MEMBER = 20 << 20  # bytes of one submitted file
STUDENTS, SUBMITTED = "_students.csv", "_submitted.csv"
STUDENT_FIELDS = ["student", "name", "email", "lms_id", "sis_id", "section"]


@dataclass
class Person:
    """A student as the LMS knows them."""

    student: str  # the folder name: a safe id
    name: str = ""
    email: str = ""
    lms_id: str = ""  # Canvas's user id, Moodle's participant id, Gradescope's submission id
    sis_id: str = ""
    section: str = ""
    submitted: dt.datetime | None = None
    files: dict[str, bytes] = field(default_factory=dict)


def safe_id(text: str, fallback: str) -> str:
    """``text`` made into a student id (letters, digits, . _ @ -), else ``fallback``."""
    cleaned = re.sub(r"[^A-Za-z0-9._@-]+", "-", text.strip()).strip("-._")
    return cleaned if cleaned and SAFE_ID.match(cleaned) else fallback


def _members(archive: Path) -> list[tuple[PurePosixPath, zipfile.ZipInfo]]:
    try:
        z = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"{archive}: not a zip archive the LMS wrote ({exc})") from None
    with z:
        found = []
        for info in z.infolist():
            if info.is_dir():
                continue
            path = PurePosixPath(info.filename)
            if any(is_junk(part) or part in ("..", "") for part in path.parts):
                continue
            found.append((path, info))
        return found


def _read(archive: Path, info: zipfile.ZipInfo, notes: list[str]) -> bytes | None:
    if info.file_size > MAX_MEMBER:
        notes.append(f"skipped {info.filename}: larger than {MAX_MEMBER >> 20} MiB")
        return None
    with zipfile.ZipFile(archive) as z, z.open(info) as f:
        return f.read(MAX_MEMBER + 1)[:MAX_MEMBER]


def _zip_time(info: zipfile.ZipInfo) -> dt.datetime:
    return dt.datetime(*info.date_time)


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the roster ({exc.strerror})") from None
    return list(csv.DictReader(io.StringIO(text)))


# -- Canvas -----------------------------------------------------------------------------------------
_CANVAS = re.compile(r"^(?P<login>[^_]+)_(?:LATE_)?(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$")


def import_canvas(archive: Path, roster: Path | None) -> tuple[list[Person], list[str]]:
    people: dict[str, Person] = {}
    notes: list[str] = []
    by_canvas_id = {}
    if roster is not None:
        for row in _read_csv(roster):
            if row.get("ID", "").strip().isdigit():
                by_canvas_id[row["ID"].strip()] = row
    for path, info in _members(archive):
        match = _CANVAS.match(path.name)
        if not match:
            notes.append(f"skipped {info.filename}: not named as Canvas names submissions")
            continue
        user = match["user"]
        row = by_canvas_id.get(user, {})
        if roster is not None and not row:
            notes.append(
                f"Canvas user {user} ({match['login']}) is not in the roster: kept as c{user}"
            )
        student = safe_id(row.get("SIS User ID", ""), f"c{user}")
        person = people.setdefault(
            user,
            Person(
                student,
                name=row.get("Student", match["login"]),
                lms_id=user,
                sis_id=row.get("SIS User ID", ""),
                section=row.get("Section", ""),
            ),
        )
        data = _read(archive, info, notes)
        if data is None:
            continue
        person.files[match["file"]] = data
        when = _zip_time(info)
        person.submitted = max(when, person.submitted or when)
    return list(people.values()), notes


# -- Moodle -----------------------------------------------------------------------------------------
_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$"
)


def _moodle_time(text: str) -> dt.datetime | None:
    text = text.strip()
    for fmt in ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def import_moodle(archive: Path, roster: Path | None) -> tuple[list[Person], list[str]]:
    people: dict[str, Person] = {}
    notes: list[str] = []
    by_participant = {}
    if roster is not None:
        for row in _read_csv(roster):
            number = row.get("Identifier", "").replace("Participant", "").strip()
            if number.isdigit():
                by_participant[number] = row
    for path, info in _members(archive):
        head = path.parts[0]
        match = _MOODLE.match(head)
        if match is None:
            notes.append(f"skipped {info.filename}: not named as Moodle names submissions")
            continue
        participant = match["participant"]
        filename = path.name if len(path.parts) > 1 else match["rest"]
        if not filename:
            continue
        row = by_participant.get(participant, {})
        email = row.get("Email address", "")
        student = safe_id(email.split("@")[0], f"p{participant}") if email else f"p{participant}"
        person = people.setdefault(
            participant,
            Person(
                student,
                name=row.get("Full name", match["name"]),
                email=email,
                lms_id=participant,
                submitted=_moodle_time(row.get("Last modified (submission)", "")),
            ),
        )
        data = _read(archive, info, notes)
        if data is not None:
            person.files[filename] = data
            if person.submitted is None:
                person.submitted = _zip_time(info)
    return list(people.values()), notes


# -- Gradescope ---------------------------------------------------------------------------------
def import_gradescope(archive: Path, roster: Path | None) -> tuple[list[Person], list[str]]:
    members = _members(archive)
    notes: list[str] = []
    meta_member = next((i for p, i in members if p.name == "submission_metadata.yml"), None)
    if meta_member is None:
        raise UserError(f"{archive}: no submission_metadata.yml (not a Gradescope export?)")
    with zipfile.ZipFile(archive) as z:
        try:
            metadata = yaml.safe_load(z.read(meta_member)) or {}
        except yaml.YAMLError as exc:
            raise UserError(f"{archive}: submission_metadata.yml is not YAML ({exc})") from None
    if not isinstance(metadata, dict):
        raise UserError(f"{archive}: submission_metadata.yml is not a mapping of submissions")
    people: dict[str, Person] = {}
    for folder, entry in metadata.items():
        submitters = (entry or {}).get(":submitters") or []
        first = submitters[0] if submitters and isinstance(submitters[0], dict) else {}
        sid, email = str(first.get(":sid") or ""), str(first.get(":email") or "")
        number = str(folder).removeprefix("submission_")
        student = safe_id(sid, "") or safe_id(email.split("@")[0], f"g{number}")
        created = entry.get(":created_at")
        when = created if isinstance(created, dt.datetime) else None
        if when is None and created:
            try:
                when = dt.datetime.fromisoformat(str(created).split(".")[0])
            except ValueError:
                when = None
        if when is not None and when.tzinfo is not None:
            when = when.astimezone().replace(tzinfo=None)
        people[str(folder)] = Person(
            student, str(first.get(":name") or ""), email, number, sid, submitted=when
        )
    for path, info in members:
        owner = next((p for p in path.parts if p in people), None)
        if owner is None:
            continue
        data = _read(archive, info, notes)
        if data is not None:
            people[owner].files[path.name] = data
    return list(people.values()), notes


IMPORTERS = {"canvas": import_canvas, "moodle": import_moodle, "gradescope": import_gradescope}


def import_archive(lms: str, archive: Path, out: Path, roster: Path | None) -> list[str]:
    """Unpacks ``archive`` into ``out``; the notes (what was skipped, who is not in the roster)."""
    people, notes = IMPORTERS[lms](archive, roster)
    if not people:
        raise UserError(f"{archive}: no submission found in it")
    taken: dict[str, str] = {}
    for person in sorted(people, key=lambda p: p.lms_id):
        if person.student in taken and taken[person.student] != person.lms_id:
            person.student = f"{person.student}-{person.lms_id}"
            notes.append(f"two students map to one id: the second is {person.student}")
        taken[person.student] = person.lms_id
        folder = out / person.student
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in person.files.items():
            if "/" in name or name in (".", "..") or is_junk(name):
                continue
            (folder / name).write_bytes(data)
    _write_csv(
        out / STUDENTS,
        STUDENT_FIELDS,
        [[getattr(p, f) for f in STUDENT_FIELDS] for p in sorted(people, key=lambda p: p.student)],
    )
    _write_csv(
        out / SUBMITTED,
        ["student", "submitted"],
        [
            [p.student, p.submitted.isoformat(sep=" ", timespec="minutes")]
            for p in sorted(people, key=lambda p: p.student)
            if p.submitted is not None
        ],
    )
    return notes


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# -- gradebooks ------------------------------------------------------------------------------------
def gradebook(grades_dir: Path, fmt: str, title: str, assignment_id: str) -> str:
    """The gradebook CSV of a graded class, for ``fmt`` (plain, canvas, moodle)."""
    from grader.gradebook import GradeRow, gradebook_csv

    table = grades_dir / "grades.csv"
    if not table.is_file():
        raise UserError(f"{grades_dir} has no grades.csv (run dlgrade grade first)")
    rows = _read_csv(table)
    column = "grade" if rows and "grade" in rows[0] else "total"
    people = (
        {r["student"]: r for r in _read_csv(grades_dir / STUDENTS)}
        if (grades_dir / STUDENTS).is_file()
        else {}
    )
    out = []
    for row in rows:
        who = people.get(row["student"], {})
        if fmt == "canvas" and not (who.get("lms_id") or who.get("sis_id")):
            raise UserError(
                f"{table}: student {row['student']} has no Canvas id: grade submissions made by "
                "`dlgrade import canvas` (its _students.csv maps each folder to Canvas)"
            )
        if fmt == "moodle" and not (who.get("email") or who.get("sis_id")):
            raise UserError(
                f"{table}: student {row['student']} has no email or ID number for Moodle: grade "
                "submissions made by `dlgrade import moodle` with the grading worksheet"
            )
        out.append(
            GradeRow(
                student_id=who.get("sis_id") or row["student"],
                name=who.get("name", ""),
                email=who.get("email", ""),
                score=float(row[column]) if row[column] != "" else None,
                section=who.get("section", ""),
                lms_id=who.get("lms_id", ""),
            )
        )
    return gradebook_csv(out, fmt, title, assignment_id)
