"""The exam server's data layer: every table and every SQL statement, for SQLite and PostgreSQL.

SQLAlchemy Core, one engine per server. SQLite runs in WAL mode with
``synchronous=FULL``; its writes go through one connection in groups (GroupCommit:
``BEGIN IMMEDIATE``, a savepoint per request, one commit for the group), so writers
queue instead of failing and share the disk's flush. PostgreSQL locks the attempt's row
(``SELECT ... FOR UPDATE``) for the length of a request. Either way a request's changes
are committed before its reply is sent.

The ``items`` table has the columns of the terminal quiz's store (grader/quiz/store.py)
plus the deadline, so the quiz's item analysis reads it unchanged.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError

from grader.errors import UserError
from grader.serve.exam import Student

CLOSED = ("answered", "skipped", "timed_out")
metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
students = Table(
    "students",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("section", Text, nullable=False, default=""),
    Column("lms_id", Text, nullable=False, default=""),
    Column("code_hash", String(64), unique=True),  # sha256 of the one-time code
    Column("token_hash", String(64), unique=True),  # sha256 of the link token
    Column("signed_in", Float),  # when the code or link was used (it is then spent)
)
attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(128), ForeignKey("students.id"), nullable=False, unique=True),
    Column("seed", BigInteger, nullable=False),
    Column("started", Float, nullable=False),  # wall clock (time.time)
    Column("finished", Float),
    Column("total_seconds", Float),  # the attempt's total limit (window close, grace included)
    Column("last_seen", Float),
)
items = Table(
    "items",
    metadata,
    Column("attempt", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("qid", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("variant", BigInteger, nullable=False),
    Column("choice_order", Text, nullable=False),  # JSON list, as in the quiz store
    Column("status", String(16), nullable=False, default="pending"),
    Column("shown", Float),
    Column("deadline", Float),  # fixed when first shown (grace may extend an open one)
    Column("choice", Integer),
    Column("correct", Integer),
    Column("closed", Float),
)
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("student", String(128)),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
)
proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(128), ForeignKey("students.id"), nullable=False),
    Column("created", Float, nullable=False),
    Column("topic", Text, nullable=False),
    Column("source", Text, nullable=False),  # the paper or lecture it is about
    Column("text", Text, nullable=False),
    Column("choices", Text, nullable=False),  # JSON list
    Column("answer", Integer, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # accepted, rejected
    Column("comment", Text, nullable=False, default=""),
    Column("qid", Text),  # the id it got in the bank
    Column("reviewed", Float),
)


@dataclass
class AttemptRow:
    id: int
    student: str
    seed: int
    started: float
    finished: float | None
    total_seconds: float | None
    last_seen: float | None


@dataclass
class ItemRow:
    position: int
    qid: str
    topic: str
    variant: int
    order: tuple[int, ...]
    status: str
    shown: float | None
    deadline: float | None
    choice: int | None
    correct: int | None


def engine_url(url: str) -> str:
    """The SQLAlchemy URL: ``postgresql://`` goes through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """The exam's database; ``write()`` for a request that changes anything, ``read()`` else."""

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        self.sqlite = self.url.startswith("sqlite")
        try:
            if self.sqlite:
                self.engine: Engine = create_engine(
                    self.url,
                    connect_args={"timeout": 30, "check_same_thread": False},
                    pool_size=8,
                    max_overflow=32,
                )
                _sqlite_pragmas(self.engine)
            else:
                self.engine = create_engine(self.url, pool_size=10, max_overflow=20)
        except Exception as exc:  # a bad URL, a missing driver
            raise UserError(f"cannot use the database {url!r}: {exc}") from None
        self._group = GroupCommit(self.engine) if self.sqlite else None

    def create(self) -> None:
        """The tables, where they are missing (an existing exam database is kept as it is)."""
        try:
            metadata.create_all(self.engine)
        except Exception as exc:
            raise UserError(f"cannot open the database {self.url!r}: {exc}") from None

    def dispose(self) -> None:
        if self._group is not None:
            self._group.close()
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction whose changes are committed when the block has ended and before the
        ``with`` statement returns (so before any reply is sent); an exception in the block
        undoes its changes."""
        if self._group is not None:
            with self._group.write() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, conn: Connection, key: str) -> str | None:
        return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        if self.get_meta(conn, key) is None:
            conn.execute(insert(meta).values(key=key, value=value))
        else:
            conn.execute(update(meta).where(meta.c.key == key).values(value=value))

    # -- students ---------------------------------------------------------------------------
    def sync_roster(self, conn: Connection, roster: list[Student]) -> None:
        """Adds the roster's students and updates their names, emails and sections."""
        known = {r.id for r in conn.execute(select(students.c.id))}
        for s in roster:
            values = {"name": s.name, "email": s.email, "section": s.section, "lms_id": s.lms_id}
            if s.id in known:
                conn.execute(update(students).where(students.c.id == s.id).values(**values))
            else:
                conn.execute(insert(students).values(id=s.id, **values))

    def students(self, conn: Connection) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in conn.execute(select(students).order_by(students.c.id))]

    def student(self, conn: Connection, sid: str) -> dict[str, Any] | None:
        row = conn.execute(select(students).where(students.c.id == sid)).first()
        return None if row is None else dict(row._mapping)

    def set_codes(self, conn: Connection, sid: str, code_hash: str, token_hash: str) -> None:
        conn.execute(
            update(students)
            .where(students.c.id == sid)
            .values(code_hash=code_hash, token_hash=token_hash, signed_in=None)
        )

    def spend_code(self, conn: Connection, column: str, digest: str, now: float) -> str | None:
        """The student whose unused code (or link token) has this digest, now spent; else None."""
        col = students.c.code_hash if column == "code" else students.c.token_hash
        sid = conn.execute(
            select(students.c.id).where(col == digest, students.c.signed_in.is_(None))
        ).scalar()
        if sid is None:
            return None
        done = conn.execute(
            update(students)
            .where(students.c.id == sid, students.c.signed_in.is_(None))
            .values(signed_in=now)
        )
        return sid if done.rowcount == 1 else None

    # -- attempts ---------------------------------------------------------------------------
    def attempt_of(self, conn: Connection, sid: str, lock: bool = False) -> AttemptRow | None:
        query = select(attempts).where(attempts.c.student == sid)
        if lock and not self.sqlite:
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None else AttemptRow(**row._mapping)

    def create_attempt(
        self,
        conn: Connection,
        sid: str,
        seed: int,
        started: float,
        total_seconds: float | None,
        drawn: list[tuple[str, str, int, tuple[int, ...]]],
    ) -> int | None:
        """A new attempt with its drawn (qid, topic, variant, order) items; None if the student
        has one already."""
        try:
            with conn.begin_nested():
                attempt_id = _new_key(
                    conn.execute(
                        insert(attempts).values(
                            student=sid,
                            seed=seed,
                            started=started,
                            total_seconds=total_seconds,
                            last_seen=started,
                        )
                    )
                )
        except IntegrityError:
            return None
        conn.execute(
            insert(items),
            [
                {
                    "attempt": attempt_id,
                    "position": i,
                    "qid": qid,
                    "topic": topic,
                    "variant": variant,
                    "choice_order": json.dumps(list(order)),
                    "status": "pending",
                }
                for i, (qid, topic, variant, order) in enumerate(drawn)
            ],
        )
        return int(attempt_id)

    def items_of(self, conn: Connection, attempt_id: int) -> list[ItemRow]:
        rows = conn.execute(
            select(
                items.c.position,
                items.c.qid,
                items.c.topic,
                items.c.variant,
                items.c.choice_order,
                items.c.status,
                items.c.shown,
                items.c.deadline,
                items.c.choice,
                items.c.correct,
            )
            .where(items.c.attempt == attempt_id)
            .order_by(items.c.position)
        )
        return [
            ItemRow(p, q, t, v, tuple(json.loads(o)), s, sh, d, c, k)
            for p, q, t, v, o, s, sh, d, c, k in rows
        ]

    def item_shown(
        self, conn: Connection, attempt_id: int, position: int, shown: float, deadline: float | None
    ) -> None:
        conn.execute(
            update(items)
            .where(
                items.c.attempt == attempt_id,
                items.c.position == position,
                items.c.status == "pending",
            )
            .values(status="open", shown=shown, deadline=deadline)
        )

    def item_closed(
        self,
        conn: Connection,
        attempt_id: int,
        position: int,
        status: str,
        choice: int | None,
        correct: bool,
        now: float,
    ) -> bool:
        """Closes an open (or pending) item; False if it was closed already (nothing changes)."""
        done = conn.execute(
            update(items)
            .where(
                items.c.attempt == attempt_id,
                items.c.position == position,
                items.c.status.in_(("open", "pending")),
            )
            .values(status=status, choice=choice, correct=int(correct), closed=now)
        )
        return done.rowcount == 1

    def attempt_finished(self, conn: Connection, attempt_id: int, now: float) -> None:
        conn.execute(
            update(attempts)
            .where(attempts.c.id == attempt_id, attempts.c.finished.is_(None))
            .values(finished=now)
        )

    def touch(self, conn: Connection, attempt_id: int, now: float) -> None:
        conn.execute(update(attempts).where(attempts.c.id == attempt_id).values(last_seen=now))

    def grant_grace(self, conn: Connection, attempt_id: int, seconds: float) -> bool:
        """``seconds`` more for the attempt's open question and its total limit; False if it has
        no open question."""
        done = conn.execute(
            update(items)
            .where(items.c.attempt == attempt_id, items.c.status == "open")
            .values(deadline=items.c.deadline + seconds)
        )
        if done.rowcount:
            conn.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id, attempts.c.total_seconds.is_not(None))
                .values(total_seconds=attempts.c.total_seconds + seconds)
            )
        return bool(done.rowcount)

    def grace(self, conn: Connection, seconds: float, student_ids: list[str] | None = None) -> int:
        """``seconds`` more for the open question of these students (all, with None); how many
        questions got them. Logged as an event."""
        query = select(attempts.c.id, attempts.c.student)
        if student_ids is not None:
            query = query.where(attempts.c.student.in_(student_ids))
        granted = sum(self.grant_grace(conn, aid, seconds) for aid, _ in conn.execute(query).all())
        who = "all" if student_ids is None else ",".join(student_ids)
        self.log(conn, None if student_ids is None else who, "grace", f"{seconds:g} s to {granted}")
        return granted

    def log(self, conn: Connection, student: str | None, kind: str, detail: str = "") -> None:
        conn.execute(
            insert(events).values(at=time.time(), student=student, kind=kind, detail=detail)
        )

    # -- the class, for the dashboard ---------------------------------------------------------
    def overview(self, conn: Connection) -> list[dict[str, Any]]:
        """Per roster student: sign-in, attempt, answered and closed counts, open deadline."""
        answered = func.sum(case((items.c.status == "answered", 1), else_=0))
        closed = func.sum(case((items.c.status.in_(CLOSED), 1), else_=0))
        counts = (
            select(
                items.c.attempt,
                func.count().label("n"),
                answered.label("answered"),
                closed.label("closed"),
                func.sum(items.c.correct).label("score"),
                func.max(case((items.c.status == "open", items.c.deadline))).label("open_deadline"),
            )
            .group_by(items.c.attempt)
            .subquery()
        )
        query = (
            select(
                students.c.id,
                students.c.name,
                students.c.email,
                students.c.section,
                students.c.lms_id,
                students.c.signed_in,
                attempts.c.id.label("attempt"),
                attempts.c.started,
                attempts.c.finished,
                attempts.c.last_seen,
                counts.c.n,
                counts.c.answered,
                counts.c.closed,
                counts.c.score,
                counts.c.open_deadline,
            )
            .select_from(
                students.outerjoin(attempts, attempts.c.student == students.c.id).outerjoin(
                    counts, counts.c.attempt == attempts.c.id
                )
            )
            .order_by(students.c.id)
        )
        return [dict(r._mapping) for r in conn.execute(query)]

    def closed_items(
        self, conn: Connection
    ) -> list[tuple[str, str, str, list[int], str, int | None, int]]:
        """(attempt, qid, topic, choice order, status, choice, correct) of every closed item:
        the rows of the quiz's item analysis."""
        rows = conn.execute(
            select(
                items.c.attempt,
                items.c.qid,
                items.c.topic,
                items.c.choice_order,
                items.c.status,
                items.c.choice,
                items.c.correct,
            ).where(items.c.status.in_(CLOSED))
        )
        return [(str(a), q, t, json.loads(o), s, c, int(k or 0)) for a, q, t, o, s, c, k in rows]

    def events(self, conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
        rows = conn.execute(select(events).order_by(events.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    # -- proposals --------------------------------------------------------------------------
    def add_proposal(self, conn: Connection, sid: str, fields: dict[str, Any]) -> int:
        return _new_key(
            conn.execute(
                insert(proposals).values(
                    student=sid,
                    created=time.time(),
                    status="pending",
                    comment="",
                    **_question_columns(fields),
                )
            )
        )

    def proposals(
        self, conn: Connection, sid: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(proposals).order_by(proposals.c.id)
        if sid is not None:
            query = query.where(proposals.c.student == sid)
        if status is not None:
            query = query.where(proposals.c.status == status)
        out = []
        for r in conn.execute(query):
            row = dict(r._mapping)
            row["choices"] = json.loads(row["choices"])
            out.append(row)
        return out

    def proposal(self, conn: Connection, pid: int) -> dict[str, Any] | None:
        rows = [p for p in self.proposals(conn) if p["id"] == pid]
        return rows[0] if rows else None

    def review_proposal(
        self,
        conn: Connection,
        pid: int,
        fields: dict[str, Any],
        status: str,
        comment: str,
        qid: str | None,
    ) -> None:
        conn.execute(
            update(proposals)
            .where(proposals.c.id == pid)
            .values(
                **_question_columns(fields),
                status=status,
                comment=comment,
                qid=qid,
                reviewed=time.time(),
            )
        )

    def accepted_counts(self, conn: Connection) -> dict[str, int]:
        rows = conn.execute(
            select(proposals.c.student, func.count())
            .where(proposals.c.status == "accepted")
            .group_by(proposals.c.student)
        )
        return {sid: int(n) for sid, n in rows}


def _new_key(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT made (SQLAlchemy's type allows None, for statements
    that insert no row)."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT that made no row"
    return int(key[0])


def _question_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """A proposed question's fields as the columns of ``proposals``."""
    return {
        "topic": fields["topic"],
        "source": fields["source"],
        "text": fields["text"],
        "choices": json.dumps(fields["choices"]),
        "answer": fields["answer"],
        "explanation": fields["explanation"],
    }


class GroupCommit:
    """SQLite's writes in one process, committed in groups: one fsync for many requests.

    A commit in WAL mode with ``synchronous=FULL`` waits for the disk (about 8 ms on a
    virtual disk), and SQLite has one writer at a time, so a transaction per request caps a
    server at about a hundred saves a second. Here the requests that arrive while one is
    being written join its transaction, each in a savepoint of its own (a request that fails
    undoes only its own changes); the last of them, or the one that finds the group full,
    commits for all, and every request waits for that commit before it returns.
    """

    MAX_GROUP = 32  # requests in one transaction
    MAX_AGE = 0.02  # seconds from the group's first request to its commit, at the most

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.mutex = threading.Lock()  # one request at a time on the writer's connection
        self.state = threading.Condition()  # guards the counters below
        self.waiting = 0  # requests queued for the mutex
        self.group = 0  # the number of the open (or last) group
        self.done = 0  # groups up to this one are committed or failed
        self.failed: dict[int, BaseException] = {}
        self.conn: Connection | None = None
        self.txn: Any = None
        self.size = 0
        self.opened = 0.0

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.state:
            self.waiting += 1
        self.mutex.acquire()
        with self.state:
            self.waiting -= 1
        committed_here = False
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(sqlite_write=True)
            if self.txn is None:
                self.txn = self.conn.begin()
                self.group += 1
                self.size, self.opened = 0, time.monotonic()
            group = self.group
            self.size += 1
            savepoint = self.conn.begin_nested()
            try:
                yield self.conn
            except BaseException:
                savepoint.rollback()
                raise
            savepoint.commit()
        finally:
            with self.state:
                last = (
                    self.waiting == 0
                    or self.size >= self.MAX_GROUP
                    or time.monotonic() - self.opened >= self.MAX_AGE
                )
            if last and self.txn is not None:
                self._commit(group)
                committed_here = True
            self.mutex.release()
        if not committed_here:
            with self.state:
                self.state.wait_for(lambda: self.done >= group)
        with self.state:
            error = self.failed.get(group)
        if error is not None:
            raise error

    def _commit(self, group: int) -> None:
        try:
            self.txn.commit()
        except BaseException as exc:  # the disk failed: every request of the group fails
            with self.state:
                self.failed[group] = exc
            try:
                self.conn.close()  # type: ignore[union-attr]
            finally:
                self.conn = None
        finally:
            self.txn = None
            with self.state:
                self.done = group
                self.state.notify_all()

    def close(self) -> None:
        with self.mutex:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, full sync, and BEGIN IMMEDIATE: a write transaction holds the lock from its start."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
