"""What the exam server's tests share: a small exam folder (bank, roster, exam file), a student
client that speaks the server's forms, a real server process on 127.0.0.1, and a throwaway
PostgreSQL cluster."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BANK = (
    """\
topic: alpha
title: Alpha
questions:
"""
    + "".join(
        f"""  - id: alpha-{i}
    text: "Alpha question {i}: which is it? $\\\\sigma(z_{i})$"
    choices: ["right {i}", "wrong {i}a", "wrong {i}b", "wrong {i}c"]
    answer: 0
    explanation: "EXPLANATION-alpha-{i}"
"""
        for i in range(6)
    )
    + """  - id: alpha-code
    text: |
      What does this print?

      ```python
      print(1 < 2)
      ```
    choices: ["True", "False", "1", "an error"]
    answer: 0
    explanation: "EXPLANATION-alpha-code"
"""
)
BANK_BETA = """\
topic: beta
questions:
""" + "".join(
    f"""  - id: beta-{i}
    text: "Beta question {i}: which is it?"
    choices: ["right b{i}", "wrong b{i}a", "wrong b{i}b"]
    answer: 0
    explanation: "EXPLANATION-beta-{i}"
"""
    for i in range(5)
)
EXPLANATION = re.compile(r"EXPLANATION-")


def make_exam(
    folder: Path,
    *,
    n: int = 5,
    seconds: float = 60,
    mode: str = "exam",
    students: int = 3,
    results: str = "never",
    opens: str = "2000-01-01 00:00",
    closes: str = "2099-01-01 00:00",
    database: str | None = None,
    extra: str = "",
) -> Path:
    """An exam folder: banks/ (alpha, beta), roster.csv (s001...), exam.yaml; returns the exam."""
    banks = folder / "banks"
    banks.mkdir(parents=True, exist_ok=True)
    (banks / "alpha.yaml").write_text(BANK, encoding="utf-8")
    (banks / "beta.yaml").write_text(BANK_BETA, encoding="utf-8")
    lines = ["id,name,email,section"] + [
        f"s{i:03d},Student {i},s{i:03d}@example.edu,A" for i in range(1, students + 1)
    ]
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    exam = folder / "exam.yaml"
    exam.write_text(
        f"""title: Test exam
id: test-exam
mode: {mode}
n: {n}
seconds_per_question: {seconds}
opens: {opens}
closes: {closes}
results: {results}
roster: roster.csv
banks: banks
"""
        + (f"database: {database}\n" if database else "")
        + extra,
        encoding="utf-8",
    )
    return exam


def issue_codes(exam_path: Path, database: str | None = None) -> dict[str, str]:
    """Student id -> sign-in code, issued straight into the exam's database."""
    from grader.serve.auth import issue_codes as issue
    from grader.serve.db import Database
    from grader.serve.exam import load_exam

    exam = load_exam(exam_path)
    db = Database(exam.database_url(database))
    db.create()
    with db.write() as conn:
        db.sync_roster(conn, exam.roster)
        codes = {c.student: c.code for c in issue(db, conn, [s.id for s in exam.roster])}
    db.dispose()
    return codes


def field(html: str, name: str) -> str | None:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    return None if m is None else m.group(1)


@dataclass
class Question:
    """The open question as the page shows it."""

    position: int
    item: str
    text: str
    choices: list[str]
    remaining: float


class StudentClient:
    """A student in a browser without JavaScript: GETs pages, POSTs their forms."""

    def __init__(self, client: httpx.Client) -> None:
        self.http = client
        self.token = ""

    def csrf(self, path: str = "/signin") -> str:
        """The session's CSRF token, as a page carries it (/signin opens no question)."""
        token = field(self.http.get(path).text, "csrf")
        assert token, f"no CSRF token on {path}"
        self.token = token
        return token

    def sign_in(self, code: str) -> httpx.Response:
        reply = self.http.post("/signin", data={"code": code, "csrf": self.csrf()})
        self.csrf()  # signing in starts a new session with a new token
        return reply

    def start(self) -> httpx.Response:
        return self.http.post("/exam/start", data={"csrf": self.token})

    def question(self) -> Question | None:
        html = self.http.get("/exam").text
        return parse_question(html)

    def save(self, q: Question, letter: int | None, **override: str) -> httpx.Response:
        data = {
            "csrf": self.token,
            "position": str(q.position),
            "item": q.item,
            "action": "save" if letter is not None else "skip",
        }
        if letter is not None:
            data["choice"] = str(letter)
        data.update(override)
        return self.http.post("/exam/save", data=data)


def parse_question(html: str) -> Question | None:
    if 'name="position"' not in html:
        return None
    legend = re.search(r'<legend class="stem">(.*?)</legend>', html, re.S)
    choices = re.findall(r'<span class="letter">\w</span> <span>(.*?)</span></label>', html, re.S)
    remaining = re.search(r'data-remaining="([0-9.]+)"', html)
    return Question(
        int(field(html, "position") or -1),
        field(html, "item") or "",
        legend.group(1) if legend else "",
        choices,
        float(remaining.group(1)) if remaining else -1.0,
    )


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's; Playwright downloads none
CHROMIUM_ARGS = [
    "--no-sandbox",  # we may be root
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server_process(
    exam: Path, database: str | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`dlgrade serve EXAM --port P` on 127.0.0.1, ready; yields (base url, process)."""
    proc, base = start_server(exam, database)
    try:
        yield base, proc
    finally:
        stop(proc)


def start_server(
    exam: Path, database: str | None = None, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "grader",
        "serve",
        str(exam),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if database:
        cmd += ["--database", database]
    log = tempfile.TemporaryFile(mode="w+")  # never a pipe: a full one would stop the server
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited: {log.read()}")
        try:
            if httpx.get(base + "/signin", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError("the server did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- PostgreSQL -------------------------------------------------------------------------------------
def postgres_bin() -> Path | None:
    """The folder of Debian's initdb and pg_ctl, if PostgreSQL is installed."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (as user postgres when we are root); yields
    its URL."""
    bin_dir = postgres_bin()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="dlgrade-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    run = lambda *args: subprocess.run(  # noqa: E731
        [*as_user, *map(str, args)], check=True, capture_output=True, text=True, timeout=120
    )
    run(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    run(
        bin_dir / "pg_ctl",
        "-D",
        data,
        "-w",
        "-t",
        "60",
        "-l",
        root / "log",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on",
        "start",
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
