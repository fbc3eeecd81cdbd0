"""Generation in worker processes: `sashimi serve --workers N` (N >= 2).

A generation is CPU-bound Python + torch. In one process, requests handled by several threads still
take turns on the interpreter lock (the decoder's step and the filler are mostly Python), so a server
with threads used about one core of two under load (`benchmarks/serve_load.py`: 1.06 cores). Here each
of N processes holds its own `Generator` (encoder, gate, model: loaded once per process, in parallel at
start-up) and runs one batch at a time (the server's waiting requests, decoded together:
`generate_each`); the web process only parses requests, stores files and answers. Results are exactly those of an in-process generator (the same code on the same inputs, one
intra-op thread each).

Processes are forked by a fork server (`multiprocessing`'s "forkserver": a fresh process that
imports the inference code, torch included, once, before any thread pool has started; a fork of the
server itself after torch has run would not be safe). Each worker so skips the ~1.5 s of CPU of
importing torch that every `spawn`ed worker paid, in parallel with the other workers on a 2-core
machine (RESULTS §8). The pool waits at start-up until every worker has loaded its model, so the
first requests do not pay for loading and a model that fails to load fails the start, with its
one-line error.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from sashimi.errors import DataError, Location, SashimiError

# What the fork server imports before it forks a worker (the generator's own lazy imports, torch among
# them): a module that fails to import here is simply imported again by each worker, as before.
PRELOAD = (
    "sashimi.model.generator",
    "sashimi.model.export",
    "sashimi.model.checkpoint",
    "sashimi.model.constraints",
    "sashimi.model.fast_lexical",
    "sashimi.model.gate",
    "sashimi.model.minilm",
    "sashimi.model.minilm_onnx",
    "sashimi.model.onnx_step",
    "sashimi.model.search",
    "sashimi.dsl.pipeline",
    "onnxruntime",
)

_generator = None  # the worker process's Generator (set by _load)
_load_error: tuple = ("the model failed to load in a worker process", None, None, None)


def start_fork_server() -> multiprocessing.context.BaseContext:
    """The "forkserver" context, its fork server started (once per process) and importing `PRELOAD`.

    It returns at once: the fork server imports in the background, so a caller that starts it early
    (`sashimi serve`, before its own web imports) overlaps the two; forking the first worker waits.
    Where there is no fork server (Windows), the "spawn" context: each worker imports for itself."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    forkserver.ensure_running()
    return ctx


def _described(err: SashimiError) -> tuple:
    """(message, file, line, col): a SashimiError's own class may not survive pickling, its parts do."""
    loc = err.location
    return err.message, loc.file, loc.line, loc.col


def _error(described: tuple) -> DataError:
    message, file, line, col = described
    return DataError(message, Location(file, line, col) if file else None)


def _load(model_dir: str | None, ready, parent: int) -> None:
    """Worker initialiser: load the generator, then wait until every worker (and the parent) is ready."""
    global _generator, _load_error
    from sashimi.model.generator import Generator

    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    try:
        _generator = Generator.load(model_dir)
        _generator.preload()
    except SashimiError as err:  # reported by the parent's first call (`_catalog`), not as a traceback
        _load_error = _described(err)
    ready.wait()


def _exit_with(parent: int) -> None:
    """End this worker when the server process is gone (killed before it could shut the pool down): a
    worker's parent is the fork server, which ends with the server, so the worker is then adopted."""
    adopter = os.getppid()
    while os.getppid() == adopter and _alive(parent):
        time.sleep(1.0)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, PermissionError):  # gone, or the pid reused by another user's process
        return False
    return True


def _run(prompt: str, beam: int) -> tuple[str, Any]:
    """("ok", Generation) or ("error", the error's parts)."""
    if _generator is None:
        return "error", _load_error
    try:
        return "ok", _generator.generate(prompt, beam=beam)
    except SashimiError as err:
        return "error", _described(err)


def _run_batch(prompts: list[str], beam: int) -> list[tuple[str, Any]]:
    """`_run` for several requests at once: one ("ok", Generation) or ("error", parts) per prompt."""
    if _generator is None:
        return [("error", _load_error)] * len(prompts)
    out: list[tuple[str, Any]] = []
    for r in generate_each(_generator, prompts, beam):
        if isinstance(r, SashimiError):
            out.append(("error", _described(r)))
        elif isinstance(r, Exception):  # a defect: its text (the parent answers 500 and logs it)
            out.append(("internal", f"{type(r).__name__}: {r}"))
        else:
            out.append(("ok", r))
    return out


def generate_each(generator, prompts: list[str], beam: int = 1) -> list[Any]:
    """A `Generation` or the exception it raised (a `SashimiError` for bad input, anything else is a
    defect), per prompt, decoded together where the generator can (`Generator.generate_batch`,
    `GeneratorPool.generate_each`). A batch that raises is retried one request at a time, so an error
    reaches only the request that caused it."""
    each = getattr(generator, "generate_each", None)
    if each is not None:  # a GeneratorPool: one worker process runs them all
        return each(prompts, beam=beam)
    batched = getattr(generator, "generate_batch", None)
    if batched is not None and len(prompts) > 1:
        try:
            return list(batched(prompts, beam=beam))
        except Exception:  # noqa: BLE001 - retried below, where it is kept for its own request only
            pass
    out: list[Any] = []
    for prompt in prompts:
        try:
            out.append(generator.generate(prompt, beam=beam))
        except Exception as err:  # noqa: BLE001 - returned to that request's caller, which raises it
            out.append(err)
    return out


def _catalog() -> tuple[str, Any]:
    """Where the worker's catalog came from: ("ok", None) = the core catalog, ("ok", folder) otherwise
    (a `Catalog` does not pickle; the parent loads its own copy from the same place)."""
    if _generator is None:
        return "error", _load_error
    from sashimi.model.catalogs import catalog_spec

    spec = catalog_spec(_generator.model)
    if spec is not None and not Path(spec).is_absolute():
        spec = str((Path(_generator.model_dir or ".") / spec).resolve())
    return "ok", spec


class GeneratorPool:
    """`generate(prompt, beam=)` like a `Generator`, run by one of `processes` worker processes.

    Call it from as many threads as there are processes (the server's capacity limiter does): each call
    blocks its thread until a worker has answered."""

    def __init__(self, model_dir: str | None, processes: int, *, start_timeout_s: float = 120.0) -> None:
        if processes < 1:
            raise ValueError("processes must be >= 1")
        self.model_dir, self.processes = model_dir, processes
        self._lock = threading.Lock()
        self._start(start_timeout_s)
        status, spec = self._pool.submit(_catalog).result()
        if status != "ok":
            self.close()
            raise _error(spec)
        from sashimi.dsl.catalog import Catalog

        # the model's catalog, for the server's own compile / validity reports
        self.catalog = Catalog.core() if spec is None else Catalog.load(Path(spec))

    def _start(self, timeout_s: float) -> None:
        ctx = start_fork_server()  # imported once, in the fork server, for every worker
        ready = ctx.Barrier(self.processes + 1)
        self._pool = ProcessPoolExecutor(
            self.processes, mp_context=ctx, initializer=_load, initargs=(self.model_dir, ready, os.getpid())
        )
        # A process pool starts its workers lazily, one per waiting task: one task per worker starts
        # them all, and the barrier returns once each has loaded its model.
        warmups = [self._pool.submit(_catalog) for _ in range(self.processes)]
        try:
            ready.wait(timeout_s)
        except threading.BrokenBarrierError:
            self.close()
            raise DataError(f"the generation workers did not start within {timeout_s:.0f} s") from None
        for f in warmups:
            f.result()

    def _call(self, fn, *args):
        """`fn(*args)` in a worker process, blocking this thread until it answers."""
        pool = self._pool
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): start a fresh pool, once
            with self._lock:
                if self._pool is pool:  # not already replaced by another request's thread
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._start(120.0)
            return self._pool.submit(fn, *args).result()

    def generate(self, prompt: str, *, beam: int = 1):
        status, value = self._call(_run, prompt, beam)
        if status != "ok":
            raise _error(value)
        return value

    def generate_each(self, prompts: list[str], *, beam: int = 1) -> list[Any]:
        """A `Generation`, a `DataError` (bad input) or a `RuntimeError` (a defect) per prompt, all run by
        one worker process at once."""
        results = self._call(_run_batch, prompts, beam)
        return [
            value if status == "ok" else _error(value) if status == "error" else RuntimeError(value)
            for status, value in results
        ]

    def close(self) -> None:
        """Stop the workers (queued generations are cancelled; a running one finishes first)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
