"""Who may do what: one-time sign-in codes and link tokens, the instructor's password, the cookie
secret, CSRF tokens, and a rate limit on sign-in.

Codes and tokens are stored as SHA-256 digests (they are long and random, so a digest
is enough); the instructor's password as an argon2 hash. The cookie is Starlette's
signed session cookie (itsdangerous), keyed by a secret made once and kept in the
exam's database, so sessions survive a restart of the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import Connection

from grader.serve.db import Database

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper
CODE_LENGTH = 10  # 32^10 = 2^50 codes


def new_code() -> str:
    """A one-time sign-in code, e.g. ``K7QF3-MZP9D``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(code: str) -> str:
    """What a student typed, as the code was issued: case, spaces and dashes do not matter."""
    raw = "".join(c for c in code.upper() if c.isalnum())
    return f"{raw[:5]}-{raw[5:]}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    """What `dlgrade serve codes` hands one student: a code to type and a link to click."""

    student: str
    code: str
    token: str


def issue_codes(db: Database, conn: Connection, student_ids: list[str]) -> list[Credentials]:
    """New codes and link tokens for these students; their old ones stop working."""
    issued = []
    for sid in student_ids:
        code, token = new_code(), secrets.token_urlsafe(24)
        db.set_codes(conn, sid, digest(normalise_code(code)), digest(token))
        issued.append(Credentials(sid, code, token))
    return issued


# -- the instructor's password ------------------------------------------------------------------
PASSWORD_KEY = "instructor_password"
MIN_PASSWORD = 10


def set_password(db: Database, conn: Connection, password: str) -> None:
    from argon2 import PasswordHasher

    db.set_meta(conn, PASSWORD_KEY, PasswordHasher().hash(password))


def check_password(db: Database, conn: Connection, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import Argon2Error

    stored = db.get_meta(conn, PASSWORD_KEY)
    if stored is None:
        return False
    try:
        return PasswordHasher().verify(stored, password)
    except Argon2Error:
        return False


def cookie_secret(db: Database, conn: Connection) -> str:
    """The key that signs session cookies: made on first use, then kept in the database."""
    secret = db.get_meta(conn, "cookie_secret")
    if secret is None:
        secret = secrets.token_urlsafe(32)
        db.set_meta(conn, "cookie_secret", secret)
    return secret


# -- CSRF ---------------------------------------------------------------------------------------
def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(session_token: str | None, form_token: str | None) -> bool:
    return (
        bool(session_token)
        and bool(form_token)
        and hmac.compare_digest(str(session_token), str(form_token))
    )


# -- rate limit ---------------------------------------------------------------------------------
class RateLimit:
    """At most ``limit`` failed sign-ins per ``window`` seconds per key (an address, an account)."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
