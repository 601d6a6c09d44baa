"""What one check, or one student's grading, owns: the sandbox started ahead of need, the
reference process, the reference cache and the grading device.

`dlgrade check` opens a :class:`CheckSession` (:func:`start_check`) before it loads pytest and
the graders, so that the sandbox and the reference process start meanwhile on the other core,
hands it to the runner, and closes it when the check is done. The runner puts it in pytest's
stash; the plugin hands it to each test, where ``@oracle`` (grader/oracle.py) sends its calls.
Nothing here is a module global: two sessions never share anything.

Light on purpose (no pytest, no NumPy, no torch): it is opened first thing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from grader.engine.cache import OracleCache, graders_digest, run_key
from grader.engine.oracle_host import OracleHost

if TYPE_CHECKING:
    from grader.engine.plan import CheckPlan
    from grader.sandbox.process import Sandbox


class CheckSession:
    """The sandbox, reference process, reference cache and device of one grading run.

    ``graders``: the grader file whose references ``cache`` keeps (needed with a cache);
    ``owns_cache``: whether :meth:`close` closes the cache too (it does when the session opened
    it)."""

    def __init__(
        self,
        graders: Path | None = None,
        cache: OracleCache | None = None,
        *,
        owns_cache: bool = False,
    ) -> None:
        if cache is not None and graders is None:
            raise ValueError("a session with a reference cache needs its grader file")
        self.cache = cache
        self._owns_cache = owns_cache
        self._graders = graders_digest(graders) if cache is not None and graders else ""
        self._host: OracleHost | None = None
        self._prepared: dict[Path, Sandbox] = {}
        self._device: str | None = None

    # -- the sandbox started ahead of need ---------------------------------------------------------
    def prepare_sandbox(self, path: Path) -> None:
        """Starts the sandbox for ``path`` now, in the background; the SandboxBackend of that
        file takes it over (:meth:`take_sandbox`)."""
        from grader.sandbox.isolation import NoSafeLevel
        from grader.sandbox.process import Sandbox, ZygoteGone

        path = Path(path).resolve()
        if path in self._prepared or not path.is_file():
            return
        try:
            self._prepared[path] = Sandbox([path])
        except (OSError, ZygoteGone, NoSafeLevel):
            return  # the backend will start one itself, and report what goes wrong

    def take_sandbox(self, path: Path) -> Sandbox | None:
        """The sandbox prepared for ``path``, now the caller's to close; None if there is none."""
        return self._prepared.pop(Path(path).resolve(), None)

    # -- the references --------------------------------------------------------------------------
    def start_host(self) -> OracleHost:
        """Starts the reference process (engine/oracle_host.py), once."""
        if self._host is None:
            self._host = OracleHost()
        return self._host

    @property
    def host(self) -> OracleHost | None:
        """The reference process while calls still go to it."""
        return self._host if self._host is not None and self._host.alive else None

    @property
    def device(self) -> str:
        """The device the oracles run on, decided at the first oracle computed here."""
        if self._device is None:
            from grader.oracle import resolve_device

            self._device = resolve_device()
        return self._device

    def run_oracle(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        """One ``@oracle`` call: from the cache, else from the reference process, else computed
        here; what was computed goes into the cache."""
        cache = self.cache
        key = cache.key_for(self._graders, fn, args, kwargs) if cache is not None else None
        if cache is not None and key is not None:
            found, value = cache.get(key)
            if found:
                return value  # torch is not even imported
        host = self.host
        done, result = host.call(fn, args, kwargs) if host is not None else (False, None)
        if not done:
            from grader.oracle import run_here

            result = run_here(fn, args, kwargs, self.device)
        if cache is not None and key is not None:
            cache.put(key, result)
        return result

    # -- the end ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Stops the reference process, closes the sandboxes nobody took (the check ended before
        it needed one) and the cache the session opened."""
        host, self._host = self._host, None
        if host is not None:
            host.stop()
        while self._prepared:
            self._prepared.popitem()[1].close()
        if self.cache is not None and self._owns_cache:
            self.cache.close()

    def __enter__(self) -> CheckSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_check(plan: CheckPlan, use_cache: bool) -> CheckSession:
    """The session of one `dlgrade check`: the student's public check keeps the torch references
    in the cache; a check with hidden tests never reads one."""
    if use_cache and not plan.hidden:
        return CheckSession(plan.tests, OracleCache.default(), owns_cache=True)
    return CheckSession()


def start_check(plan: CheckPlan, seed: int, use_cache: bool) -> CheckSession:
    """:func:`open_check`, with what `dlgrade check` starts before it loads pytest and the
    graders, to run meanwhile on the other core: the submission's sandbox, and the torch
    reference process unless the cache already holds this check's references."""
    session = open_check(plan, use_cache)
    session.prepare_sandbox(plan.submission)
    if session.cache is None or not session.cache.is_complete(run_key(plan.tests, seed)):
        session.start_host()
    return session
