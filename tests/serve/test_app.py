"""HTTP layer of `sashimi serve`, against an explicit test double of the generator (conftest)."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from sashimi.dsl.ast import CONDITIONS
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.decompiler import decompile
from sashimi.dsl.parser import GRAMMAR_PATH, parse
from sashimi.dsl.pipeline import run_pipeline
from sashimi.dsl.printer import print_program
from sashimi.model.generator import Generation
from sashimi.serve.app import (
    FileStore,
    RateLimiter,
    ServeConfig,
    content_disposition,
    create_app,
    shortcut_filename,
)

from .conftest import WATER, FakeGenerator, LiveServer


def client(generator=None, **config) -> TestClient:
    app = create_app(generator or FakeGenerator(), config=ServeConfig(**config))
    return TestClient(app, raise_server_exceptions=False)


def assert_json_error(r, status: int, error: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail"} and body["error"] == error and body["detail"]
    assert "Traceback" not in r.text
    return body


def test_health_and_lexicon():
    c = client()
    health = c.get("/api/health").json()
    assert health["status"] == "ok" and health["workers"] == 1  # the test app generates in its own process
    lex = c.get("/api/lexicon").json()
    assert lex["conditions"] == list(CONDITIONS)
    grammar = GRAMMAR_PATH.read_text()
    for kw in ("SHORTCUT", "ACTION", "SET", "IF", "ENDIF", "MENU", "CASE", "FOREACH", "QTY", "HEADERS"):
        assert kw in lex["keywords"] and f'{kw}: "{kw}"' in grammar
    assert len(lex["keywords"]) == len(set(lex["keywords"]))


def test_generate_accepted_download_decompiles_to_shown_program():
    gen = FakeGenerator()
    c = client(gen)
    r = c.post("/api/generate", json={"prompt": "log my water", "beam": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] is True and body["dsl"] == WATER and body["read_as"] == ""
    assert body["validity"]["strict"] is True and body["validity"]["errors"] == []
    assert gen.calls == [("log my water", 2)]
    d = c.get(body["download_url"])
    assert d.status_code == 200
    assert d.headers["content-type"] == "application/octet-stream"
    assert d.headers["content-disposition"].startswith('attachment; filename="Log_Water.shortcut";')
    assert d.content.startswith(b"bplist00")
    back = decompile(d.content, Catalog.load(None), file="Log_Water.shortcut").ir
    assert parse(print_program(back)) == parse(body["dsl"])


def test_generate_says_how_a_misspelt_request_was_read():
    body = client(FakeGenerator()).post("/api/generate", json={"prompt": "log my watre"}).json()
    assert body["accepted"] is True and body["read_as"] == "log my water"


def test_generate_refusal():
    body = client().post("/api/generate", json={"prompt": "order me a pizza"}).json()
    assert body["accepted"] is False and "not something" in body["reason"]
    assert body["dsl"] == "" and body["download_url"] is None and body["validity"] is None


@pytest.mark.parametrize(
    "payload, status, error",
    [
        (b"{not json", 400, "bad_json"),
        (b"\xff\xfe", 400, "bad_json"),
        (b"[1, 2]", 400, "bad_request"),
        (b"{}", 400, "bad_request"),
        (b'{"prompt": 3}', 400, "bad_request"),
        (b'{"prompt": "   "}', 400, "bad_request"),
        (b'{"prompt": "water", "beam": 0}', 400, "bad_request"),
        (b'{"prompt": "water", "beam": true}', 400, "bad_request"),
        (b'{"prompt": "water", "beam": 99}', 400, "bad_request"),
        (json.dumps({"prompt": "w" * 2001}).encode(), 413, "prompt_too_long"),
        (json.dumps({"prompt": "water", "pad": "x" * 70_000}).encode(), 413, "too_large"),
    ],
)
def test_generate_rejects_bad_requests(payload, status, error):
    gen = FakeGenerator()
    r = client(gen).post("/api/generate", content=payload, headers={"Content-Type": "application/json"})
    assert_json_error(r, status, error)
    assert gen.calls == []  # nothing bad ever reaches the model


def test_prompt_at_the_limit_is_accepted():
    assert client().post("/api/generate", json={"prompt": "water " + "w" * 1994}).status_code == 200


def test_body_limit_holds_without_content_length():
    # A chunked body has no length header: the limit is counted while reading.
    def chunks():
        for _ in range(20):
            yield b" " * 4096

    r = client().post("/api/compile", content=chunks(), headers={"Content-Type": "application/json"})
    assert_json_error(r, 413, "too_large")


def test_internal_error_is_json_without_details():
    r = client().post("/api/generate", json={"prompt": "explode"})
    body = assert_json_error(r, 500, "internal")
    assert "secret" not in r.text and "model.py" not in r.text and body["detail"] == "internal server error"


def test_unknown_routes_and_ids():
    c = client()
    assert_json_error(c.get("/nope"), 404, "not_found")
    assert_json_error(c.get("/api/shortcut/AAAAAAAAAAAAAAAAAAAAAA"), 404, "not_found")
    assert_json_error(c.get("/api/shortcut/..%2F..%2Fetc%2Fpasswd"), 404, "not_found")
    assert_json_error(c.get("/static/..%2Fapp.py"), 404, "not_found")
    assert_json_error(c.get("/api/generate"), 405, "method_not_allowed")


def test_compile_valid_program_gives_file():
    c = client()
    body = c.post("/api/compile", json={"dsl": WATER, "lint": False}).json()
    assert body["validity"]["strict"] and body["dsl"] == WATER
    assert c.get(body["download_url"]).content.startswith(b"bplist00")


def test_compile_syntax_error_is_located():
    text = 'SHORTCUT "x"\nACTION comment WFCommentActionText="hi"\nIF $x bogus 3\nENDIF\n'
    body = client().post("/api/compile", json={"dsl": text, "lint": False}).json()
    v = body["validity"]
    assert v["parsed"] is False and v["strict"] is False and body["download_url"] is None
    (err,) = v["errors"]
    assert err["category"] == "syntax" and err["line"] == 3 and err["col"] == 7


def test_compile_validation_error_is_located():
    text = 'SHORTCUT "x"\nACTION comment WFCommentActionText="hi"\nACTION no.such.action X=1\n'
    v = client().post("/api/compile", json={"dsl": text, "lint": False}).json()["validity"]
    assert v["parsed"] and not v["strict"]
    assert any(e["line"] == 3 and e["category"] == "unknown_action" for e in v["errors"])


def test_compile_with_lint_reports_repairs():
    v = client().post("/api/compile", json={"dsl": 'SHORTCUT "x"\nSET $a = \n'}).json()["validity"]
    assert v["changed_by_lint"] and v["repairs"][0]["line"] == 2


def test_rate_limit_per_client():
    c = client(rate_per_minute=60, rate_burst=3)
    codes = [c.post("/api/compile", json={"dsl": WATER}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    r = c.post("/api/generate", json={"prompt": "water"})
    assert_json_error(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1
    assert c.get("/api/health").status_code == 200  # cheap endpoints are not limited


def test_rate_limiter_refills():
    now = [0.0]
    rl = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert rl.take("a") == 0 and rl.take("a") == 0 and rl.take("a") > 0
    assert rl.take("b") == 0  # per client
    now[0] = 1.01
    assert rl.take("a") == 0 and rl.take("a") > 0


def test_file_store_is_bounded_in_count_and_age():
    now = [0.0]
    store = FileStore(max_files=3, max_age_s=10, clock=lambda: now[0])
    ids = [store.put(bytes([i]), "f.shortcut") for i in range(5)]
    assert len(store) == 3 and store.get(ids[0]) is None and store.get(ids[4]).data == b"\x04"
    assert len(set(ids)) == 5 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    now[0] = 10.5
    assert store.get(ids[4]) is None and len(store) == 0


def test_shortcut_filename_is_safe():
    assert shortcut_filename("Log Water") == "Log_Water.shortcut"
    assert shortcut_filename('../../etc/"passwd"\r\n') == "etcpasswd.shortcut"
    assert shortcut_filename("...") == "shortcut.shortcut"
    assert shortcut_filename("Café au lait") == "Café_au_lait.shortcut"
    header = content_disposition("Café_au_lait.shortcut")
    assert header == "attachment; filename=\"Caf_au_lait.shortcut\"; filename*=UTF-8''Caf%C3%A9_au_lait.shortcut"


def test_no_cors_unless_asked():
    headers = {"Origin": "https://evil.example"}
    r = client().get("/api/health", headers=headers)
    assert "access-control-allow-origin" not in r.headers
    c = client(cors_origin="https://app.example")
    r = c.get("/api/health", headers={"Origin": "https://app.example"})
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in c.get("/api/health", headers=headers).headers


def test_page_is_self_contained():
    c = client()
    r = c.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for path in ("/api/health", "/api/nowhere", "/static/app.js"):  # answers of every kind carry them
        headers = c.get(path).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in headers["content-security-policy"]
    html = r.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/static/") for a in assets)
    for a in assets:
        asset = c.get(a)
        assert asset.status_code == 200
        assert not re.search(r"https?://", asset.text)  # no CDN, nothing from elsewhere
    for id_ in ("prompt", "generate", "program", "validity", "download", "editor", "recompile", "errors"):
        assert f'id="{id_}"' in html


def test_generation_is_serialised_under_concurrency():
    gen = FakeGenerator(delay_s=0.05)
    app = create_app(gen, config=ServeConfig(rate_burst=100))
    with LiveServer(app) as server:
        def one(i: int) -> int:
            return httpx.post(f"{server.url}/api/generate", json={"prompt": f"water {i}"}, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(16)))
    assert codes == [200] * 16
    assert len(gen.calls) == 16 and gen.max_active == 1


def test_queue_is_bounded():
    gen = FakeGenerator(delay_s=0.3)
    app = create_app(gen, config=ServeConfig(rate_burst=100, max_waiting=2))
    with LiveServer(app) as server:
        def one(i: int) -> httpx.Response:
            return httpx.post(f"{server.url}/api/generate", json={"prompt": f"water {i}"}, timeout=30)

        with ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(one, range(6)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 2 and 503 in codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.json()["error"] == "busy" and busy.headers["retry-after"] == "5"


def test_workers_bound_concurrent_generations():
    gen = FakeGenerator(delay_s=0.1)
    app = create_app(gen, config=ServeConfig(rate_burst=100, workers=2))
    with LiveServer(app) as server:
        def one(i: int) -> int:
            return httpx.post(f"{server.url}/api/generate", json={"prompt": f"water {i}"}, timeout=30).status_code

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(one, range(6))) == [200] * 6
    assert gen.max_active == 2


def test_clean_report_equals_a_full_toolchain_report():
    from sashimi.serve.app import clean_report, validity_report

    result = run_pipeline(WATER, Catalog.load(None), do_lint=False)
    assert result.compiled_strict and not result.warnings
    assert validity_report(result, WATER) == clean_report()


def test_generated_program_with_warnings_gets_a_located_report():
    class Warned(FakeGenerator):
        def generate(self, prompt, *, beam=1):
            text = 'SHORTCUT "W"\nACTION showresult Text=`{$Missing}`\n'
            data = run_pipeline(text, Catalog.load(None), do_lint=False).shortcut_bytes
            return Generation(True, "", text, {"compiled_strict": True, "warnings": ["undefined_variable: x"]},
                              data, 1.0, {}, name="W")

    body = client(Warned()).post("/api/generate", json={"prompt": "water"}).json()
    assert body["validity"]["warnings"] and body["validity"]["warnings"][0]["line"] == 2
    assert body["download_url"]


class BatchingFake(FakeGenerator):
    """A FakeGenerator with `generate_batch` (as the real Generator has): records each batch's prompts;
    its answers carry the prompt in `reason`, so a mixed-up answer shows."""

    def __init__(self, delay_s: float = 0.0):
        super().__init__(delay_s)
        self.batches: list[list[str]] = []
        self.singles: list[str] = []  # requests that went through `generate` (a batch of one)

    def generate_batch(self, prompts, *, beam=1):
        with self._lock:
            self.batches.append(list(prompts))
        if any("explode" in p for p in prompts):
            raise RuntimeError("secret internal detail")  # the server retries one at a time
        time.sleep(self.delay_s)
        return [Generation(False, f"echo {p}", "", {}, None, 1.0, {}) for p in prompts]

    def generate(self, prompt, *, beam=1):
        with self._lock:
            self.singles.append(prompt)
        if "explode" in prompt:
            return super().generate(prompt, beam=beam)
        return Generation(False, f"echo {prompt}", "", {}, None, 1.0, {})


def _post_many(server, prompts):
    def one(p: str) -> httpx.Response:
        return httpx.post(f"{server.url}/api/generate", json={"prompt": p}, timeout=30)

    with ThreadPoolExecutor(len(prompts)) as pool:
        return list(pool.map(one, prompts))


@pytest.mark.parametrize("workers", [1, 2])
def test_waiting_requests_are_batched_and_each_gets_its_own_answer(workers):
    gen = BatchingFake(delay_s=0.1)
    app = create_app(gen, config=ServeConfig(rate_burst=100, workers=workers, max_batch=4))
    prompts = [f"request number {i}" for i in range(16)]
    with LiveServer(app) as server:
        responses = _post_many(server, prompts)
        stats = httpx.get(f"{server.url}/api/health", timeout=10).json()["batches"]
    assert [r.status_code for r in responses] == [200] * 16
    assert [r.json()["reason"] for r in responses] == [f"echo {p}" for p in prompts]
    sizes = [len(b) for b in gen.batches]
    assert sum(sizes) + len(gen.singles) == 16  # every request generated once
    assert max(sizes, default=1) <= 4  # never beyond max_batch (which requests wait together is timing)
    # the health endpoint's account of the batches: every request once, by batch size
    assert stats["count"] == len(sizes) + len(gen.singles)
    assert sum(int(k) * v for k, v in stats["by_size"].items()) == 16
    if sizes:  # a batch of the fake sleeps 0.1 s (a lone request does not)
        assert stats["ms_p95"] >= 90
    else:
        assert stats["ms_p95"] is not None


def test_an_error_in_a_batch_reaches_only_its_own_request():
    gen = BatchingFake(delay_s=0.2)
    app = create_app(gen, config=ServeConfig(rate_burst=100, max_batch=8))
    prompts = ["first alone"] + [f"request {i}" for i in range(5)] + ["explode now"]
    with LiveServer(app) as server:
        responses = _post_many(server, prompts)
    by_prompt = dict(zip(prompts, responses, strict=True))
    boom = by_prompt.pop("explode now")
    assert boom.status_code == 500 and boom.json()["error"] == "internal" and "secret" not in boom.text
    assert all(r.status_code == 200 and r.json()["reason"] == f"echo {p}" for p, r in by_prompt.items())


def _held_worker(max_batch: int, workers: int = 1, batch_wait_s: float = 0.0):
    """A `_Worker` whose first request ("first") holds the generator until `release` is set, so the
    requests sent meanwhile all wait (one worker) or run beside a busy one (two): which ones form a
    batch is then certain."""
    import threading

    from sashimi.serve.app import _Worker

    started, release = threading.Event(), threading.Event()

    class Held(BatchingFake):
        def generate(self, prompt, *, beam=1):
            if prompt == "first":
                started.set()
                release.wait(20)
            return super().generate(prompt, beam=beam)

    gen = Held()
    worker = _Worker(gen, max_waiting=64, workers=workers, max_batch=max_batch, batch_wait_s=batch_wait_s)
    return gen, worker, started, release


def _while_held(max_batch: int, prompts: list[str]):
    import asyncio

    gen, worker, started, release = _held_worker(max_batch)

    async def scenario():
        first = asyncio.ensure_future(worker.generate("first", 1))
        while not started.is_set():
            await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(worker.generate(p, 1)) for p in prompts]
        await asyncio.sleep(0.05)  # every one of them is queued behind "first"
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    return gen, asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def test_requests_that_wait_form_batches_of_at_most_max_batch_in_order():
    prompts = [f"request {i}" for i in range(6)]
    gen, results = _while_held(4, prompts)
    assert gen.batches == [prompts[:4], prompts[4:]]
    assert [r.reason for r in results] == ["echo first"] + [f"echo {p}" for p in prompts]


def test_an_error_inside_a_batch_is_kept_to_its_own_request():
    prompts = ["request 0", "explode now", "request 2"]
    gen, results = _while_held(8, prompts)
    assert gen.batches == [prompts]  # batched together; the batch raised, so each was retried alone
    assert isinstance(results[2], RuntimeError)
    assert [results[1].reason, results[3].reason] == ["echo request 0", "echo request 2"]


def test_max_batch_1_generates_one_request_at_a_time():
    gen = BatchingFake(delay_s=0.05)
    app = create_app(gen, config=ServeConfig(rate_burst=100, max_batch=1))
    with LiveServer(app) as server:
        assert [r.status_code for r in _post_many(server, [f"r {i}" for i in range(6)])] == [200] * 6
    assert gen.batches == [] and len(gen.singles) == 6  # a batch of one goes through `generate`


def _beside_a_busy_worker(batch_wait_s: float, gap_s: float, n: int = 4):
    """Two workers (batches of at most 4), one held by "first" throughout; `n` requests sent `gap_s`
    apart. (the batches they formed, seconds from the first send until all were answered)."""
    import asyncio

    gen, worker, started, release = _held_worker(4, workers=2, batch_wait_s=batch_wait_s)

    async def scenario():
        first = asyncio.ensure_future(worker.generate("first", 1))
        while not started.is_set():
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        rest = []
        for i in range(n):
            rest.append(asyncio.ensure_future(worker.generate(f"r{i}", 1)))
            await asyncio.sleep(gap_s)
        answers = await asyncio.gather(*rest)
        elapsed, held = time.perf_counter() - t0, not first.done()
        release.set()
        await first
        return [a.reason for a in answers], elapsed, held

    reasons, elapsed, held = asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    assert reasons == [f"echo r{i}" for i in range(n)] and held
    return gen.batches + [[p] for p in gen.singles if p != "first"], elapsed


def test_under_load_a_free_worker_waits_for_a_full_batch():
    """Beside a busy worker, requests that arrive within --batch-wait-ms of each other form one batch;
    without the wait the first is taken alone, at once."""
    batches, _ = _beside_a_busy_worker(batch_wait_s=2.0, gap_s=0.05)
    assert batches == [["r0", "r1", "r2", "r3"]]
    batches, _ = _beside_a_busy_worker(batch_wait_s=0.0, gap_s=0.05)
    assert batches[0] == ["r0"] and sum(map(len, batches)) == 4


def test_the_batch_wait_is_bounded():
    """A batch that does not fill starts when the wait runs out, while the other worker is still busy."""
    batches, _ = _beside_a_busy_worker(batch_wait_s=0.3, gap_s=0.0)
    assert batches == [["r0", "r1", "r2", "r3"]]  # all four queued at once: full, no wait
    batches, elapsed = _beside_a_busy_worker(batch_wait_s=0.3, gap_s=0.0, n=1)
    assert batches == [["r0"]] and 0.25 <= elapsed < 5.0  # waited for company, then ran alone


def test_an_idle_server_never_waits_for_a_batch():
    import asyncio

    from sashimi.serve.app import _Worker

    async def one() -> float:
        worker = _Worker(BatchingFake(), max_waiting=64, workers=2, max_batch=8, batch_wait_s=10.0)
        t0 = time.perf_counter()
        await worker.generate("alone", 1)
        return time.perf_counter() - t0

    assert asyncio.run(asyncio.wait_for(one(), timeout=20)) < 5.0  # not the 10 s wait


def test_a_request_queued_as_the_last_drain_ends_is_still_generated():
    """The requests of one client, each sent the moment the last is answered: the drain that answered
    the last one is ending in that same event-loop step, and must not count as running."""
    import asyncio

    from sashimi.serve.app import _Worker

    async def one_after_another() -> list[str]:
        worker = _Worker(BatchingFake(), max_waiting=64, workers=1, max_batch=8)
        return [(await worker.generate(f"request {i}", 1)).reason for i in range(5)]

    reasons = asyncio.run(asyncio.wait_for(one_after_another(), timeout=20))
    assert reasons == [f"echo request {i}" for i in range(5)]
