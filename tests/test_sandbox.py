"""The sandbox against hostile submissions: one submission per attack, graded in one run beside
honest ones. Each attack must score what its honest part earns (here 0, unless said otherwise),
the run must finish, and the honest submissions graded after it keep their full marks.

The run happens in a child process (as a class would be graded), so an attack that killed or
corrupted the grader shows up here as a failure instead of taking the test session down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import processes_of, uid_base

from grader.runtime import codec
from grader.runtime.plain import Opaque
from grader.sandbox.backend import SandboxBackend
from grader.sandbox.isolation import bwrap as _bwrap
from grader.sandbox.process import Sandbox

GRADERS = '''
import numpy as np
import pytest
from grader.testing import expect_array, expect_unmodified

@pytest.mark.points(1)
@pytest.mark.time_limit(1)
def test_double(student, rng):
    """double(x) is 2 x."""
    x = rng.normal(size=(3, 4))
    expected = 2 * x
    expect_array(student.double(x), expected)

@pytest.mark.points(1)
@pytest.mark.time_limit(1)
def test_double_leaves_its_input(student, rng):
    """double leaves x as it was."""
    expect_unmodified(student.call("double", rng.normal(size=5)))

@pytest.mark.points(1)
@pytest.mark.time_limit(1)
def test_triple(student, rng):
    """triple(x) is 3 x."""
    x = rng.normal(size=3)
    expect_array(student.triple(x), 3 * x)
'''

HONEST = """
import numpy as np

def double(x):
    return 2 * x

def triple(x):
    return 3 * x
"""

# name -> (source, the score it honestly earns, a text its failures must mention or None).
# Returning a wrong value without touching the input honestly earns test_double_leaves_its_input.
ATTACKS: dict[str, tuple[str, int, str | None]] = {
    "sys_exit": ("import sys\ndef double(x):\n    sys.exit(0)\n", 0, "SystemExit"),
    "os_exit": ("import os\ndef double(x):\n    os._exit(0)\n", 0, "ended during the call"),
    "patch_comparisons": (
        """
        import numpy as np, numpy.testing, builtins
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        def double(x):
            import builtins
            builtins.AssertionError = type("Nothing", (Exception,), {})
            return x
        """,
        1,
        None,
    ),
    "read_caller_frames": (
        """
        import sys, inspect
        def double(x):
            for info in inspect.stack():
                for name, value in info.frame.f_locals.items():
                    if name == "expected":
                        return value
            f = sys._getframe()
            while f is not None:
                if "expected" in f.f_locals:
                    return f.f_locals["expected"]
                f = f.f_back
            return x
        """,
        1,
        None,
    ),
    "mutate_inputs": ("def double(x):\n    x *= 2\n    return x\n", 1, "in place"),
    "lying_subclass": (
        """
        import numpy as np
        class Always(np.ndarray):
            def __eq__(self, other): return True
            def __ne__(self, other): return False
        def double(x):
            return np.zeros_like(x).view(Always)
        """,
        1,
        "Always",
    ),
    "array_protocol": (
        """
        class Fake:
            def __init__(self, x): self.x = x
            def __array__(self, *a, **k): return 2 * self.x
            def __eq__(self, other): return True
        def double(x):
            return Fake(x)
        """,
        1,
        "Fake",
    ),
    "generator": ("def double(x):\n    return (v for v in x)\n", 1, "generator"),
    "import_torch": ("import torch\ndef double(x):\n    return 2 * x\n", 0, "torch is not allowed"),
    "dynamic_import": (
        """
        import importlib
        def double(x):
            try:
                importlib.import_module("to" + "rch")
            except ImportError:
                pass
            return 2 * x
        def triple(x):
            return 3 * x
        """,
        0,
        "torch is not allowed",
    ),
    "dunder_import_scipy": (
        "def double(x):\n    __import__('sci' + 'py')\n    return 2 * x\n",
        0,
        "scipy is not allowed",
    ),
    "import_the_grader": (
        """
        def double(x):
            try:
                mod = __import__("gra" + "der")
            except ImportError:
                return x
            return 2 * x
        """,
        0,
        "grader is not allowed",
    ),
    "endless_loop_ignoring_signals": (
        """
        import signal
        def double(x):
            for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
                signal.signal(s, signal.SIG_IGN)
            while True:
                pass
        """,
        0,
        "did not finish",
    ),
    "memory_hog": (
        """
        def double(x):
            hoard = []
            while True:
                hoard.append(bytearray(100 << 20))
        """,
        0,
        None,
    ),
    "output_flood": (
        """
        import sys
        def double(x):
            for _ in range(20000):
                sys.stdout.write("\\x1b[2J\\x1b[31m" + "spam " * 100 + "\\n")
            return x
        """,
        1,
        None,
    ),
    "outlives_the_call": (
        """
        import os, time
        def double(x):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(600)
                os._exit(0)
            return x
        """,
        1,
        None,
    ),
    "fork_bomb": (
        """
        import os
        def double(x):
            for _ in range(10000):
                try:
                    if os.fork() == 0:
                        while True:
                            pass
                except OSError:
                    break
            while True:
                pass
        """,
        0,
        "did not finish",
    ),
    "crash_mid_test": (
        "import os, signal\ndef double(x):\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
        0,
        "SIGSEGV",
    ),
    "never_answers": (
        """
        import os, signal, time
        def double(x):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            for fd in range(3, 1024):
                try:
                    os.close(fd)
                except OSError:
                    pass
            time.sleep(600)
        """,
        0,
        None,
    ),
}

RUN_ALL = """
import json, sys
from pathlib import Path
from grader.engine.runner import run_graders
tests, out = Path(sys.argv[1]), {}
for path in sys.argv[2:]:
    result = run_graders(tests, Path(path), exercise="toy", seed=3)
    out[Path(path).stem] = {
        "score": result.score,
        "tests": {t.name: [t.status, t.message, t.output] for t in result.tests},
    }
print(json.dumps(out))
"""


def _write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def own_uids(monkeypatch: pytest.MonkeyPatch) -> int:
    """This test's own range of sandbox uids: leftovers found there are this test's."""
    base = uid_base(7)
    monkeypatch.setenv("DLGRADE_UID_BASE", str(base))
    return base


def _strays(base: int) -> list[int]:
    """What is left of the sandboxes of this test: processes of its uids (where the grader is
    root), or descendants of this process (where it is not)."""
    if os.geteuid() == 0:
        return processes_of(base)
    from grader.sandbox.procfs import process_tree

    return sorted(process_tree(os.getpid()) - {os.getpid()})


@pytest.fixture(scope="module")
def attack_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    """Grades every attack, each followed by an honest submission, in one grading process."""
    root = tmp_path_factory.mktemp("attacks")
    graders = _write(root / "graders" / "test_toy.py", GRADERS)
    _write(root / "course" / "solutions" / "toy.py", HONEST)  # the "reference" to steal
    results_dir = root / "results"
    results_dir.mkdir()
    paths = []
    for i, (name, (source, _, _)) in enumerate(ATTACKS.items()):
        source = textwrap.dedent(source).replace("RESULTS", repr(str(results_dir)))
        paths.append(_write(root / "subs" / name / f"{name}.py", source))
        paths.append(_write(root / "subs" / f"honest{i}" / f"honest{i}.py", HONEST))
    _write(root / "subs" / "sys_exit" / "conftest.py", "raise SystemExit('conftest ran')\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "DLGRADE_UID_BASE": str(uid_base(8)),
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUN_ALL, str(graders), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,  # the bound: a hung grader fails here
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), results_dir, root


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_earns_only_its_honest_score(attack_run, name: str) -> None:
    results, _, _ = attack_run
    _, honest_score, must_mention = ATTACKS[name]
    got = results[name]
    assert got["score"] == honest_score, got
    if must_mention:
        messages = " ".join(m for _, m, _ in got["tests"].values())
        assert must_mention in messages, messages


def test_honest_submissions_keep_full_marks_beside_the_attacks(attack_run) -> None:
    results, _, _ = attack_run
    honest = {k: v["score"] for k, v in results.items() if k.startswith("honest")}
    assert len(honest) == len(ATTACKS)
    assert set(honest.values()) == {3.0}, honest


def test_a_runtime_forbidden_import_fails_the_whole_exercise(attack_run) -> None:
    results, _, _ = attack_run
    tests = results["dynamic_import"]["tests"]
    assert all(status == "error" for status, _, _ in tests.values())  # triple was right, too


def test_output_flood_is_capped_and_made_harmless(attack_run) -> None:
    results, _, _ = attack_run
    output = results["output_flood"]["tests"]["test_double"][2]
    assert len(output) < 6000
    assert "\x1b" not in output and "bytes of output dropped" in output


def test_nothing_the_workers_started_is_left(attack_run) -> None:
    if os.geteuid() != 0:
        pytest.skip("the run's leftovers are found by their sandbox uids, which need root")
    assert processes_of(uid_base(8)) == []


def test_a_thousand_files_beside_the_submission_are_never_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    for i in range(1000):
        _write(folder / f"junk{i}.py", "raise SystemExit('junk ran')\n")
    _write(folder / "conftest.py", "import pytest\nraise SystemExit('conftest ran')\n")
    submission = _write(folder / "toy.py", HONEST)
    graders = _write(tmp_path / "graders" / "test_toy.py", GRADERS)
    from grader.engine.runner import run_graders

    result = run_graders(graders, submission, exercise="toy", seed=3)
    assert result.score == 3


# -- the codec: plain data only, never code ------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        -(10**30),
        1.5,
        float("nan"),
        2 + 3j,
        "ünïcode",
        np.arange(12.0).reshape(3, 4),
        np.arange(5, dtype=np.int64)[::2],
        np.float64(2.5),
        np.int32(-7),
        np.zeros((0, 3)),
        [1, (2.0, "x"), {"k": np.ones(2)}],
        {1: None},
        Opaque(7, "Generator"),
    ],
)
def test_codec_round_trips_plain_data(value) -> None:
    back = codec.decode(codec.encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    elif isinstance(value, list):
        assert repr(back) == repr(value)
    else:
        assert back == value


@pytest.mark.parametrize(
    "value",
    [np.array([object()]), np.zeros(2).view(np.recarray), object(), {(1, 2): 3}, lambda: 0],
)
def test_codec_refuses_what_is_not_plain(value) -> None:
    with pytest.raises(TypeError):
        codec.encode(value)


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x04\x95",  # a pickle
        b"A" + codec._text("O") + b"\x00\x00\x00\x00",  # an object array
        b"A" + codec._text("<f8") + b"\x01\x00\x00\x00\x05\x00\x00\x00" + b"\x00" * 8,  # short
        b"L\xff\xff\xff\xff",  # a list longer than the message
        codec.encode(1) + b"junk",
    ],
)
def test_codec_rejects_bytes_it_did_not_write(data: bytes) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(data)


def test_arrays_passed_in_are_unchanged_on_the_grader_side(tmp_path: Path) -> None:
    path = _write(tmp_path / "sub.py", "def double(x):\n    x[:] = 0\n    return x\n")
    backend = SandboxBackend(path, "sub.py")
    try:
        x = np.arange(4.0)
        raw = backend.call("double", (x,), {}, 5.0)
        assert np.array_equal(x, np.arange(4.0))  # the grader's copy
        assert np.array_equal(raw.args_after[0], np.zeros(4))  # what the submission did
    finally:
        backend.close()


def test_handles_stay_in_the_worker_and_batched_calls_take_one_round_trip(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "sub.py",
        "def draw(rng):\n    return int(rng.integers(10))\n",
    )
    backend = SandboxBackend(path, "sub.py")
    try:
        rng = backend.new("numpy.random.default_rng", (7,), {}).result
        assert isinstance(rng, Opaque) and rng.type_name == "Generator"
        draws = backend.repeat("draw", 1000, (rng,), {}, 5.0).result
        mine = np.random.default_rng(7)
        assert draws == [int(mine.integers(10)) for _ in range(1000)]
    finally:
        backend.close()


def test_the_worker_runs_unprivileged_and_sees_only_its_folder(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "sub.py",
        "import os\ndef who():\n    return [os.getuid(), sorted(os.listdir('.'))]\n",
    )
    (tmp_path / "secret.txt").write_text("the answers")
    backend = SandboxBackend(path, "sub.py")
    try:
        uid, files = backend.call("who", (), {}, 5.0).result
    finally:
        backend.close()
    assert files == ["sub.py"]
    assert uid != 0  # never root, at any level
    if os.geteuid() == 0:
        from grader.sandbox.uids import COUNT, _base

        assert _base() <= uid < _base() + COUNT  # a uid of the sandbox's own


# -- one sandbox per student: workers forked warm from its zygote ------------------------------
def _sandbox_processes(sandbox: Sandbox) -> int:
    """How many processes the sandbox's tree holds (bwrap, the zygote, the workers and theirs)."""
    assert sandbox._proc is not None
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    found, todo = 0, [sandbox._proc.pid]
    while todo:
        found += 1
        todo += children.get(todo.pop(), [])
    return found


def test_workers_of_one_sandbox_are_fresh_and_leave_nothing_behind(
    tmp_path: Path, own_uids: int
) -> None:
    """Two exercises of a student in one sandbox: each gets its own worker, and whatever the first
    left running (a grandchild in a session of its own) is gone before the second starts."""
    a = _write(
        tmp_path / "student" / "a.py",
        """
        import os, time
        state = []
        def pid():
            state.append(1)
            return [os.getpid(), len(state)]
        def linger():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(600)
                os._exit(0)
            return 1
        """,
    )
    b = _write(
        tmp_path / "student" / "b.py", "import os\ndef pid():\n    return [os.getpid(), 0]\n"
    )
    sandbox = Sandbox([a, b])
    try:
        SandboxBackend(a, "a.py", sandbox=sandbox).close()  # the zygote is up
        idle = _sandbox_processes(sandbox)
        first = SandboxBackend(a, "a.py", sandbox=sandbox)
        first_pid, calls = first.call("pid", (), {}, 5.0).result
        assert calls == 1 and first.call("linger", (), {}, 5.0).result == 1
        time.sleep(0.2)
        assert _sandbox_processes(sandbox) >= idle + 2  # the worker and what it left running
        first.close()
        assert _sandbox_processes(sandbox) == idle
        again = SandboxBackend(a, "a.py", sandbox=sandbox)  # module state does not carry over
        assert again.call("pid", (), {}, 5.0).result[1] == 1
        again.close()
        second = SandboxBackend(b, "b.py", sandbox=sandbox)
        assert second.call("pid", (), {}, 5.0).result[0] != first_pid
        second.close()
    finally:
        sandbox.close()
    assert _strays(own_uids) == []


def test_a_worker_that_kills_its_zygote_costs_only_a_cold_start(
    tmp_path: Path, own_uids: int
) -> None:
    a = _write(
        tmp_path / "a.py",
        "import os, signal\ndef kill_parent():\n    os.kill(os.getppid(), signal.SIGKILL)\n"
        "    return 1\ndef double(x):\n    return 2 * x\n",
    )
    sandbox = Sandbox([a])
    try:
        backend = SandboxBackend(a, "a.py", sandbox=sandbox)
        backend.call("kill_parent", (), {}, 5.0)  # the worker dies with its zygote
        assert backend.call("double", (3,), {}, 5.0).result == 6  # a new zygote, a new worker
        backend.close()
    finally:
        sandbox.close()
    assert _strays(own_uids) == []


def test_one_exercise_cannot_rewrite_another_of_the_same_student(tmp_path: Path) -> None:
    """The files of a sandbox are read-only to its workers, so what is graded is what was handed
    in (an exercise cannot swap in code for the next one behind the instructor's back)."""
    a = _write(
        tmp_path / "s" / "a.py",
        """
        def swap():
            try:
                with open("b.py", "w") as f:
                    f.write("def answer():\\n    return 'swapped'\\n")
            except OSError as exc:
                return type(exc).__name__
            return "written"
        """,
    )
    b = _write(tmp_path / "s" / "b.py", "def answer():\n    return 'original'\n")
    sandbox = Sandbox([a, b])
    try:
        first = SandboxBackend(a, "a.py", sandbox=sandbox)
        outcome = first.call("swap", (), {}, 5.0).result
        first.close()
        second = SandboxBackend(b, "b.py", sandbox=sandbox)
        answer = second.call("answer", (), {}, 5.0).result
        second.close()
    finally:
        sandbox.close()
    assert b.read_text() == "def answer():\n    return 'original'\n"  # never the original
    if not _bwrap() and os.geteuid() != 0:
        pytest.skip("without bubblewrap and root, a worker may rewrite its copies")
    assert outcome != "written" and answer == "original"


def test_a_working_bwrap_probe_is_remembered_until_a_sandbox_fails_to_boot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.sandbox import isolation as process

    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path))
    process.bwrap.cache_clear()
    try:
        found = process.bwrap()
        markers = list((tmp_path / "cache").glob("bwrap-works-*"))
        if found is None:  # no working bwrap here: nothing is remembered
            assert markers == []
            return
        assert len(markers) == 1
        process.bwrap.cache_clear()

        def no_probe(*args: object, **kwargs: object) -> None:
            raise AssertionError("probed again")

        monkeypatch.setattr(process.subprocess, "run", no_probe)
        assert process.bwrap() == found  # from the marker, without a probe
        process.forget_bwrap()
        assert not markers[0].exists()
    finally:
        process.bwrap.cache_clear()
        process.detect.cache_clear()


# -- limits for all of a sandbox's processes together ------------------------------------------
HOARDERS = """
import os, time
def hoard(children, mib):
    r, w = os.pipe()
    pids = []
    for _ in range(children):
        pids.append(os.fork())
        if pids[-1] == 0:
            try:
                block = bytearray(mib << 20)
                block[::4096] = b"x" * len(block[::4096])
                os.write(w, b"1")
                time.sleep(60)
            finally:
                os._exit(0)
    os.close(w)
    got, deadline = 0, time.monotonic() + 3
    os.set_blocking(r, False)
    while time.monotonic() < deadline and got < children:
        try:
            got += len(os.read(r, 16))
        except BlockingIOError:
            time.sleep(0.02)
    return sum(os.waitpid(pid, os.WNOHANG) == (0, 0) for pid in pids) if got == children else 0
"""


@pytest.mark.parametrize("counted_by", ["cgroup", "watchdog"])
def test_a_sandboxs_processes_share_one_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_uids: int, counted_by: str
) -> None:
    """Four children of one worker, 400 MiB each, in a sandbox of 1 GiB: per-process limits
    alone would let them. They answer as soon as they hold it, before the watchdog's next look or
    the kernel's kill of one that has already reported: the answer is not taken either way."""
    from grader.sandbox.limits import Cgroup, Limits

    if counted_by == "watchdog":
        monkeypatch.setenv("DLGRADE_NO_CGROUP", "1")
    elif Cgroup.create(Limits()) is None:
        pytest.skip("this machine does not let dlgrade make cgroups (the watchdog counts)")
    path = _write(tmp_path / "hoard.py", HOARDERS)
    sandbox = Sandbox([path], Limits(memory=1 << 30))
    try:
        assert (sandbox._cgroup is None) == (counted_by == "watchdog")
        backend = SandboxBackend(path, "hoard.py", sandbox=sandbox)
        raw = backend.call("hoard", (4, 400), {}, 8.0)
        backend.close()
    finally:
        sandbox.close()
    assert raw.error is not None and "limit on memory" in raw.error, (raw.error, raw.result)
    assert _strays(own_uids) == []


def test_under_the_watchdog_each_answer_is_looked_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the watchdog counts, the sandbox looks at its processes again as an answer comes: more
    of them than the cap, or more memory than the limit, and the answer is not taken. (Run by root,
    a sandbox's own uid caps its processes first, so a real fork bomb never gets this far here.)"""
    from grader.sandbox.limits import Limits

    monkeypatch.setenv("DLGRADE_NO_CGROUP", "1")
    path = _write(tmp_path / "sub.py", "def double(x):\n    return 2 * x\n")
    sandbox = Sandbox([path], Limits(processes=8))
    try:
        mark = sandbox.memory_mark()
        assert sandbox.went_over(mark) is None
        real = sandbox._processes
        monkeypatch.setattr(sandbox, "_processes", lambda: real() | set(range(2, 12)))
        assert sandbox.went_over(mark) == "processes"
        monkeypatch.setattr(sandbox, "limits", Limits(processes=8, memory=1 << 20))
        monkeypatch.setattr(sandbox, "_processes", real)
        assert sandbox.went_over(mark) == "memory"  # the zygote alone holds more than 1 MiB
    finally:
        sandbox.close()


@pytest.mark.parametrize("cgroups", ["allowed", "turned off"])
def test_sandbox_status_says_what_holds_the_limits(tmp_path: Path, cgroups: str) -> None:
    """`dlgrade sandbox status` says whether a cgroup or the watchdog holds a sandbox's processes
    to their limits together: what the attack table's footnote depends on."""
    from grader.sandbox.limits import Cgroup, Limits

    env = {**os.environ, "DLGRADE_HOME": str(tmp_path)}
    if cgroups == "turned off":
        env["DLGRADE_NO_CGROUP"] = "1"
    elif Cgroup.create(Limits()) is None:
        pytest.skip("this machine does not let dlgrade make cgroups (the watchdog counts)")
    proc = subprocess.run(
        [sys.executable, "-c", "from grader.cli import main; main()", "sandbox", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "held to their limits" in x)
    if cgroups == "turned off":
        assert "a watchdog every 0.2 s" in line and "DLGRADE_NO_CGROUP" in line, line
    else:
        assert "a cgroup of its own" in line, line


def _dead_children() -> list[int]:
    me, dead = os.getpid(), []
    for entry in os.listdir("/proc"):
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) == me:
            dead.append(int(entry))
    return dead


def test_sandboxes_closed_one_after_another_leave_no_zombie(tmp_path: Path) -> None:
    """A grading process runs thousands of sandboxes: none may leave a dead process behind."""
    path = _write(tmp_path / "sub.py", "def double(x):\n    return 2 * x\n")
    before = set(_dead_children())
    for _ in range(3):
        backend = SandboxBackend(path, "sub.py")
        try:
            assert backend.call("double", (2,), {}, 5.0).result == 4
        finally:
            backend.close()
    assert set(_dead_children()) <= before
