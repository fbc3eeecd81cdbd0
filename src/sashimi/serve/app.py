"""The HTTP API and web page of `sashimi serve` (FastAPI).

`create_app(generator)` builds one ASGI app around ONE generator (encoder, gate and model loaded once
and shared by every request). Endpoints:

- `GET /` — the single page (static files shipped in `sashimi/serve/static/`, no CDN, no build step);
- `POST /api/generate` `{"prompt", "beam"}` → `{accepted, reason, dsl, validity, download_url, ms, model_ms, stages, read_as}`;
- `POST /api/compile` `{"dsl", "lint"}` → `{dsl, validity, download_url, ms}` (for edited programs);
- `GET /api/shortcut/{id}` → the `.shortcut` binary plist of an earlier answer;
- `GET /api/lexicon` → the DSL keywords and condition words, read from the grammar (the page's
  highlighter uses them, so it never drifts from the language);
- `GET /api/health`.

Safety, all in this module: bodies over `max_body_bytes` and prompts over `max_prompt_chars` get 413,
a token bucket per client address limits the expensive endpoints (429), generated files live in a
bounded in-memory store (count and age) under random ids — no file path is ever taken from a
request, static files included (they are read once at start-up into a fixed table) — there is no
CORS unless a single origin is configured, and every error is JSON `{error, detail}` without a
traceback (the traceback of an internal error goes to the server log only).

Generation is CPU-bound, so it runs in a worker thread behind a capacity limiter (one batch at a
time by default): requests queue in the event loop, waiting requests are generated together in
batches of up to `max_batch` (their decoder steps shared, `Generator.generate_batch`), and a queue
longer than `max_waiting` is answered 503 at once instead of growing without bound. With `workers` >= 2
the batches run in that many worker processes (`sashimi.serve.pool`), one core each.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from sashimi import __version__
from sashimi.dsl.ast import CONDITIONS
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.parser import GRAMMAR_PATH, parse
from sashimi.dsl.pipeline import PipelineResult, run_pipeline
from sashimi.errors import DSLSyntaxError, SashimiError
from sashimi.model.generator import Generator
from sashimi.serve.pool import generate_each

log = logging.getLogger("sashimi.serve")

# Content type of the download. Apple registers no MIME type for `.shortcut` files; browsers and
# the Shortcuts app go by the file name, so the generic binary type is the honest choice.
SHORTCUT_MEDIA_TYPE = "application/octet-stream"
PROGRAM_FILE = "program.dsl"  # the `file` part of every located error the API reports
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# Added to every answer that does not set them itself. Everything the page needs comes from this
# server: no inline script, no third party.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


class SecurityHeaders:
    """ASGI middleware that adds `SECURITY_HEADERS` to each answer's start message. Written against
    ASGI rather than as an `@app.middleware("http")` function (starlette's BaseHTTPMiddleware), which
    runs every request through an extra task and a response stream."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ------------------------------------------------------------------------------------- interfaces


class GeneratorLike(Protocol):
    """What the server needs of `sashimi.model.generator.Generator` (iface: generate → Generation)."""

    def generate(self, prompt: str, *, beam: int = 1) -> Any: ...


@dataclass(frozen=True)
class ServeConfig:
    """Limits of one server. Defaults are what `sashimi serve` uses."""

    max_prompt_chars: int = 2000  # longer prompts: 413
    max_body_bytes: int = 64 * 1024  # larger request bodies: 413 (checked while reading, not trusted from headers)
    max_beam: int = 8  # beam width accepted from a request
    rate_per_minute: float = 120.0  # sustained requests per client address to generate/compile
    rate_burst: int = 30  # bucket size: a page's burst of edits is fine
    store_max_files: int = 512  # generated files kept (oldest dropped first)
    store_max_age_s: float = 3600.0  # ... and for at most this long
    max_waiting: int = 64  # generations queued beyond this get 503 at once
    workers: int = 1  # generations at once: 1 = in this process; N >= 2 = N worker processes (serve.pool)
    max_batch: int = 8  # waiting requests decoded together by one worker (1 = one request at a time)
    batch_wait_ms: float = 30.0  # under load, how long a free worker may wait for a fuller batch (_Worker)
    cors_origin: str | None = None  # the one origin allowed cross-origin; None = no CORS headers at all
    seed: int = 0  # compiler seed for /api/compile (UUIDs), so the same text gives the same file


class ApiError(Exception):
    """An error answered as JSON `{error, detail}` with `status`."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


# ------------------------------------------------------------------------------------- components


@dataclass
class StoredFile:
    data: bytes
    filename: str
    created: float


class FileStore:
    """Bounded in-memory store of generated `.shortcut` files under unguessable random ids."""

    def __init__(self, max_files: int, max_age_s: float, clock: Callable[[], float] = time.monotonic):
        self.max_files, self.max_age_s, self._clock = max_files, max_age_s, clock
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, data: bytes, filename: str) -> str:
        file_id = secrets.token_urlsafe(16)
        with self._lock:
            self._expire()
            self._files[file_id] = StoredFile(data, filename, self._clock())
            while len(self._files) > self.max_files:
                self._files.popitem(last=False)
        return file_id

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            self._expire()
            return self._files.get(file_id)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._files)

    def _expire(self) -> None:
        # Insertion order is age order, so expired files are all at the front.
        limit = self._clock() - self.max_age_s
        while self._files:
            first = next(iter(self._files.values()))
            if first.created >= limit:
                break
            self._files.popitem(last=False)


class RateLimiter:
    """Token bucket per client key; the table of clients is bounded (least recently seen dropped)."""

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = per_minute / 60.0, float(burst), clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token for `key`; return 0 if allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else float("inf")
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class _Worker:
    """Runs the waiting generations in batches, at most `workers` batches at once; bounds the queue.

    A request joins a queue; while fewer than `workers` batches run, a drain task takes up to
    `max_batch` waiting requests at once and hands them to the generator together (one worker
    thread / process: `pool.generate_each`), so under load the decoder steps of several requests share
    their per-call cost (`Generator.generate_batch`). An idle server runs each request alone, as
    `sashimi generate` does.

    Under load (another batch running), a free worker waits up to `batch_wait_s` for `max_batch`
    requests before it takes the queue, as a dynamic batcher's queue delay does. Why: without it, a
    worker that finishes a batch takes at once what queued while it ran (the requests the other worker
    answered just before), and the clients it has just answered then wait for the other worker's
    whole batch before theirs starts: a request waits up to one batch, then runs one, and the two
    workers take turns in a rhythm that makes p95 about twice the batch time. Waiting a few ms lets a
    worker take the requests of the clients it has just answered, so each request's latency is about
    one batch (RESULTS §8: p95 under load). An idle server never waits (no other batch runs)."""

    generator: GeneratorLike
    max_waiting: int
    workers: int = 1
    max_batch: int = 8
    batch_wait_s: float = 0.0
    waiting: int = 0
    limiter: anyio.CapacityLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = anyio.CapacityLimiter(self.workers)
        self._queue: deque[tuple[str, int, asyncio.Future]] = deque()
        self._drains: set[asyncio.Task] = set()  # drain tasks (referenced until done: no garbage collection)
        self._draining = 0  # drains that will still look at the queue
        self._busy = 0  # drains running a batch now
        self._arrived = asyncio.Event()  # set when a request joins the queue (a waiting drain looks again)
        self._sizes: dict[int, int] = {}  # batches run, by size (for /api/health)
        self._batch_ms: deque[float] = deque(maxlen=1024)  # wall time of the latest batches

    def batch_stats(self) -> dict[str, Any]:
        """Batches run so far by size, and the wall time of the latest (up to 1,024): what a load test reads."""
        ms = sorted(self._batch_ms)
        pick = (lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 1)) if ms else (lambda q: None)
        count = sum(self._sizes.values())
        return {
            "count": count,
            "mean_size": round(sum(k * v for k, v in self._sizes.items()) / count, 2) if count else None,
            "by_size": {str(k): v for k, v in sorted(self._sizes.items())},
            "ms_p50": pick(0.5),
            "ms_p95": pick(0.95),
        }

    async def generate(self, prompt: str, beam: int):
        if self.waiting >= self.max_waiting:
            raise ApiError(503, "busy", "the server is busy; try again in a few seconds", {"Retry-After": "5"})
        self.waiting += 1  # only touched from the event loop thread, so no lock is needed
        try:
            loop = asyncio.get_running_loop()
            answer = loop.create_future()
            self._queue.append((prompt, beam, answer))
            self._arrived.set()
            if self._draining < self.workers:
                self._draining += 1  # counted now, not when the task starts: no second drain for this item
                task = loop.create_task(self._drain())
                self._drains.add(task)
                task.add_done_callback(self._drains.discard)
            result = await answer
        finally:
            self.waiting -= 1
        if isinstance(result, SashimiError):
            raise result
        return result

    async def _drain(self) -> None:
        """Run batches until the queue is empty (one of at most `workers` drain tasks). It stops counting
        itself in the same step as it last finds the queue empty, so a request queued after that always
        starts a drain (the task's done-callback would come a step too late)."""
        try:
            await self._drain_queue()
        finally:
            self._draining -= 1

    async def _drain_queue(self) -> None:
        while self._queue:
            await self._fill_batch()
            if not self._queue:  # another worker took them while this one waited
                return
            # an even share of the queue per free worker: 6 waiting and 2 idle workers run 3 + 3, not 6 + 0
            free = max(1, self.workers - self._busy)
            size = min(self.max_batch, -(-len(self._queue) // free))
            batch = [self._queue.popleft() for _ in range(size)]
            self._busy += 1
            t0 = time.perf_counter()
            try:
                await self._run(batch)
            finally:
                self._busy -= 1
                self._sizes[size] = self._sizes.get(size, 0) + 1
                self._batch_ms.append((time.perf_counter() - t0) * 1000)

    async def _fill_batch(self) -> None:
        """Under load, wait up to `batch_wait_s` until `max_batch` requests are queued (class docstring)."""
        if self.batch_wait_s <= 0 or not self._busy:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.batch_wait_s
        while self._busy and len(self._queue) < self.max_batch:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return

    async def _run(self, batch: list[tuple[str, int, asyncio.Future]]) -> None:
        """Generate one batch (grouped by beam width) and answer each waiting request."""
        by_beam: dict[int, list[tuple[str, int, asyncio.Future]]] = {}
        for item in batch:
            by_beam.setdefault(item[1], []).append(item)
        for beam, items in by_beam.items():
            prompts = [prompt for prompt, _, _ in items]
            try:
                results = await anyio.to_thread.run_sync(
                    lambda p=prompts, b=beam: generate_each(self.generator, p, b), limiter=self.limiter
                )
            except Exception as err:  # an internal error: each waiting request answers 500
                results = [err] * len(items)
            for (_, _, answer), result in zip(items, results, strict=True):
                if answer.done():  # the client went away
                    continue
                if isinstance(result, Exception) and not isinstance(result, SashimiError):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)


# --------------------------------------------------------------------------------- static content


def dsl_lexicon() -> dict[str, list[str]]:
    """Keywords (the grammar's keyword terminals) and condition words, for the page's highlighter."""
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    keywords = [m.group(1) for m in re.finditer(r'^([A-Z]+): "([A-Z]+)"\s*$', grammar, re.M) if m.group(1) == m.group(2)]
    return {"keywords": keywords, "conditions": list(CONDITIONS), "booleans": ["true", "false"]}


_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _load_static() -> dict[str, tuple[bytes, str]]:
    """Every file of the package's static folder, read once: requests only ever pick from this table."""
    table: dict[str, tuple[bytes, str]] = {}
    for entry in resources.files("sashimi.serve").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in _STATIC_TYPES:
            table[entry.name] = (entry.read_bytes(), _STATIC_TYPES[suffix])
    return table


# ------------------------------------------------------------------------------------------ reports


def _issue(issue) -> dict:
    return {
        "severity": issue.severity,
        "category": issue.category,
        "message": issue.message,
        "line": issue.line,
        "col": None,
    }


def validity_report(result: PipelineResult, text: str) -> dict:
    """The validity line of the page: strict / permissive / compiles, located errors and warnings."""
    errors = [_issue(i) for i in (result.strict_errors or result.permissive_errors)]
    if result.failed_stage == "parse":
        try:  # run_pipeline keeps only the message; parse again for the structured location
            parse(result.linted_text, file=PROGRAM_FILE)
        except DSLSyntaxError as err:
            loc = err.location
            errors = [{"severity": "error", "category": "syntax", "message": err.message, "line": loc.line, "col": loc.col}]
        else:  # cannot happen (the same text failed a moment ago); keep the pipeline's line
            errors = [{"severity": "error", "category": "syntax", "message": result.error, "line": None, "col": None}]
    elif result.failed_stage == "compile":
        errors.append({"severity": "error", "category": "compile", "message": result.error, "line": None, "col": None})
    if result.strict_valid and result.compiled_strict:
        summary = "valid (strict)"
    elif result.compiled_permissive:
        summary = "valid (permissive only: uses actions the catalog does not know)"
    elif not result.parsed:
        summary = "syntax error"
    else:
        summary = "invalid"
    return {
        "summary": summary,
        "parsed": result.parsed,
        "strict": result.strict_valid and result.compiled_strict,
        "permissive": result.compiled_permissive,
        "errors": errors,
        "warnings": [_issue(i) for i in result.warnings],
        "repairs": [
            {"line": c.line, "kind": c.kind, "original": c.original, "replacement": c.replacement, "reason": c.reason}
            for c in result.lint_changes
        ],
        "changed_by_lint": result.linted_text != text,
    }


def clean_report() -> dict:
    """`validity_report` of a program that compiled strict with no warning, error or repair."""
    return {
        "summary": "valid (strict)",
        "parsed": True,
        "strict": True,
        "permissive": True,
        "errors": [],
        "warnings": [],
        "repairs": [],
        "changed_by_lint": False,
    }


def _clean_strict(validity: dict | None) -> bool:
    """The generator's verdict (`sashimi.model.generator.validity_of`) says: strict, nothing to report."""
    v = validity or {}
    return bool(v.get("compiled_strict")) and not v.get("warnings") and not v.get("errors")


def shortcut_filename(name: str) -> str:
    """A safe download name from the program's SHORTCUT name (never from the request itself).

    Spaces become `_`, as Apple writes them (the decompiler reads them back as spaces, so the name
    survives a round trip); separators, control and quoting characters are dropped."""
    stem = re.sub(r'[\x00-\x1f\x7f/\\:"*?<>|;%]+', "", name).strip(" .")[:80]
    stem = re.sub(r"\s+", "_", stem).strip("._") or "shortcut"
    return f"{stem}.shortcut"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII `filename` and the exact UTF-8 `filename*` (RFC 6266)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "shortcut.shortcut"
    if ascii_name.startswith("."):
        ascii_name = "shortcut" + ascii_name
    return f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(filename, safe="")}'


# ---------------------------------------------------------------------------------------- the app


def load_generator(model_dir: str | None = None, workers: int = 1) -> GeneratorLike:
    """The shipped (or `model_dir`'s) generator, loaded once (in each of `workers` processes if >= 2)."""
    if workers > 1:
        from sashimi.serve.pool import GeneratorPool

        return GeneratorPool(model_dir, workers)
    generator = Generator.load(model_dir)
    generator.preload()
    return generator


def create_app(
    generator: GeneratorLike | None = None,
    *,
    model_dir: str | None = None,
    config: ServeConfig | None = None,
    catalog: Catalog | None = None,
) -> FastAPI:
    """Build the app around one generator (loaded from `model_dir` / the shipped model when None)."""
    config = config or ServeConfig()
    generator = generator if generator is not None else load_generator(model_dir, config.workers)
    # The generator's own catalog when it has one (the one its model was trained with), so the
    # validity shown for a generated program is the verdict the generator itself reached.
    catalog = catalog or getattr(generator, "catalog", None) or Catalog.load(None)
    static = _load_static()
    lexicon = dsl_lexicon()
    store = FileStore(config.store_max_files, config.store_max_age_s)
    limiter = RateLimiter(config.rate_per_minute, config.rate_burst)
    worker = _Worker(generator, config.max_waiting, config.workers, config.max_batch, config.batch_wait_ms / 1000)
    started = time.monotonic()
    counters = {"generate": 0, "compile": 0}

    app = FastAPI(title="sashimi", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.limiter, app.state.config = store, limiter, config
    app.state.generator = generator

    if config.cors_origin:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[config.cors_origin],
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )

    app.add_middleware(SecurityHeaders)

    # -- errors: always JSON {error, detail}, never a traceback --

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError):
        return JSONResponse({"error": err.error, "detail": err.detail}, status_code=err.status, headers=err.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, err: StarletteHTTPException):
        names = {404: "not_found", 405: "method_not_allowed"}
        detail = err.detail if isinstance(err.detail, str) else "request not handled"
        return JSONResponse(
            {"error": names.get(err.status_code, "http_error"), "detail": detail},
            status_code=err.status_code,
            headers=getattr(err, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, err: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal", "detail": "internal server error"}, status_code=500)

    # -- helpers --

    def client_key(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def check_rate(request: Request) -> None:
        wait = limiter.take(client_key(request))
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests from this client; try again in {wait:.1f} s",
                {"Retry-After": str(max(1, int(wait + 0.999)))},
            )

    async def read_json_body(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise ApiError(400, "bad_request", "invalid Content-Length header")
            if int(declared) > config.max_body_bytes:
                raise ApiError(413, "too_large", f"request body over {config.max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():  # counted while reading: chunked bodies have no length header
            body += chunk
            if len(body) > config.max_body_bytes:
                raise ApiError(413, "too_large", f"request body over {config.max_body_bytes} bytes")
        try:
            obj = json.loads(bytes(body).decode("utf-8"))
        except UnicodeDecodeError:
            raise ApiError(400, "bad_json", "request body is not UTF-8") from None
        except json.JSONDecodeError as err:
            raise ApiError(400, "bad_json", f"request body is not JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
        if not isinstance(obj, dict):
            raise ApiError(400, "bad_request", "request body must be a JSON object")
        return obj

    def store_file(data: bytes | None, name: str) -> str | None:
        if not data:
            return None
        return f"/api/shortcut/{store.put(data, shortcut_filename(name))}"

    # -- endpoints --

    @app.get("/", include_in_schema=False)
    async def index():
        data, media = static["index.html"]
        return Response(data, media_type=media, headers={"Cache-Control": "no-cache"})

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: str):
        if name not in static:  # a table lookup: the request never names a path on disk
            raise ApiError(404, "not_found", "no such file")
        data, media = static[name]
        return Response(data, media_type=media, headers={"Cache-Control": "no-cache"})

    @app.get("/api/health")
    async def health():
        return {
            "status": "ok",
            "version": __version__,
            "generator": type(generator).__name__,
            "uptime_s": round(time.monotonic() - started, 1),
            "workers": worker.workers,
            "stored_files": len(store),
            "requests": dict(counters),
            "batches": worker.batch_stats(),
        }

    @app.get("/api/lexicon")
    async def get_lexicon():
        return lexicon

    @app.post("/api/generate")
    async def generate(request: Request):
        check_rate(request)
        body = await read_json_body(request)
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise ApiError(400, "bad_request", 'field "prompt" must be a string')
        if len(prompt) > config.max_prompt_chars:
            raise ApiError(413, "prompt_too_long", f"prompt is {len(prompt)} characters; the limit is {config.max_prompt_chars}")
        if not prompt.strip():
            raise ApiError(400, "bad_request", "prompt is empty")
        beam = body.get("beam", 1)
        if isinstance(beam, bool) or not isinstance(beam, int) or not 1 <= beam <= config.max_beam:
            raise ApiError(400, "bad_request", f'field "beam" must be an integer from 1 to {config.max_beam}')
        counters["generate"] += 1
        t0 = time.perf_counter()
        try:
            gen = await worker.generate(prompt, beam)
        except SashimiError as err:  # bad input the generator itself rejects
            raise ApiError(400, "bad_request", err.message) from None
        validity, download_url = None, None
        if gen.accepted and gen.dsl:
            name = getattr(gen, "name", "")
            if _clean_strict(gen.validity) and gen.shortcut:
                # Compiled strict with no warning: the generator's verdict is the whole report.
                validity = clean_report()
                data = gen.shortcut
            else:
                # The generator's verdict has no line numbers; the same toolchain run (no lint: the
                # program is the model's own) gives the located report the page shows.
                result = await anyio.to_thread.run_sync(
                    lambda: run_pipeline(gen.dsl, catalog, file=PROGRAM_FILE, seed=config.seed, do_lint=False)
                )
                validity = validity_report(result, gen.dsl)
                # The generator's own file when it made one (it is what `sashimi generate` writes).
                data = gen.shortcut if gen.shortcut else result.shortcut_bytes
                name = name or (result.ir.name if result.ir is not None else "")
            download_url = store_file(data, name or "shortcut")
        return {
            "accepted": bool(gen.accepted),
            "reason": gen.reason,
            "dsl": gen.dsl if gen.accepted else "",
            "validity": validity,
            "download_url": download_url,
            "ms": round((time.perf_counter() - t0) * 1000.0, 1),
            "model_ms": round(float(gen.ms), 1),
            "stages": {k: round(float(v), 1) for k, v in (gen.stages or {}).items()},
            # the request as the models read it when a misspelt word was corrected ("" when not)
            "read_as": getattr(gen, "read_as", ""),
        }

    @app.post("/api/compile")
    async def compile_dsl(request: Request):
        check_rate(request)
        body = await read_json_body(request)
        text = body.get("dsl")
        if not isinstance(text, str):
            raise ApiError(400, "bad_request", 'field "dsl" must be a string')
        if not text.strip():
            raise ApiError(400, "bad_request", "the program is empty")
        do_lint = body.get("lint", True)
        if not isinstance(do_lint, bool):
            raise ApiError(400, "bad_request", 'field "lint" must be true or false')
        counters["compile"] += 1
        t0 = time.perf_counter()
        result = await anyio.to_thread.run_sync(
            lambda: run_pipeline(text, catalog, file=PROGRAM_FILE, seed=config.seed, do_lint=do_lint)
        )
        validity = validity_report(result, text)
        name = result.ir.name if result.ir is not None else "shortcut"
        return {
            "dsl": result.linted_text,
            "validity": validity,
            "download_url": store_file(result.shortcut_bytes, name),
            "ms": round((time.perf_counter() - t0) * 1000.0, 1),
        }

    @app.get("/api/shortcut/{file_id}")
    async def download(file_id: str):
        stored = store.get(file_id) if _ID_RE.match(file_id) else None
        if stored is None:
            raise ApiError(404, "not_found", "no such file (files are kept for a limited time)")
        return Response(
            stored.data,
            media_type=SHORTCUT_MEDIA_TYPE,
            headers={
                "Content-Disposition": content_disposition(stored.filename),
                "Cache-Control": "no-store",
            },
        )

    return app
