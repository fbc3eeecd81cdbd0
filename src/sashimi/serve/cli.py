"""`sashimi serve`: the web page and HTTP API on one generator loaded once."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import time

from sashimi.errors import DataError, Location


def register(groups: dict) -> None:
    p = groups["root"].add_parser(
        "serve",
        help="web page + HTTP API: type a request, download the .shortcut",
        description="Serve the page (GET /) and the API (/api/generate, /api/compile, /api/shortcut/ID, "
        "/api/health) on one generator loaded once. Binds to localhost unless --host says otherwise.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--model", default=None, metavar="DIR", help="model directory (default: the shipped model)")
    p.add_argument("--cors", default=None, metavar="ORIGIN", help="allow cross-origin calls from this one origin")
    p.add_argument("--rate-limit", type=float, default=120.0, metavar="N",
                   help="requests per minute per client address to generate/compile (default 120)")
    p.add_argument("--burst", type=int, default=30, help="short bursts allowed above the rate (default 30)")
    p.add_argument("--workers", type=int, default=None,
                   help="generations run at once: 1 = in the server's process; N >= 2 = in N worker processes, "
                   "each with its own model (a core and about 400 MB each). Default: the cores this process "
                   f"may use, at most {MAX_AUTO_WORKERS}")
    p.add_argument("--max-batch", type=int, default=8, metavar="N",
                   help="waiting requests a worker generates together, their decoder steps shared "
                   "(default 8; 1 = one request at a time)")
    p.add_argument("--batch-wait-ms", type=float, default=30.0, metavar="MS",
                   help="under load (another batch running), how long a free worker may wait for --max-batch "
                   "requests before it starts a smaller batch (default 30; 0 = never wait)")
    p.add_argument("--quiet", action="store_true", help="no access log")
    p.set_defaults(func=cmd_serve)


MAX_AUTO_WORKERS = 4


def default_workers() -> int:
    """One generation process per usable core (affinity-aware), at most MAX_AUTO_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_WORKERS))


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise DataError(f"--port must be 0..65535, got {args.port}", Location("<args>"))
    if args.rate_limit <= 0 or args.burst < 1:
        raise DataError("--rate-limit must be > 0 and --burst >= 1", Location("<args>"))
    if args.workers is None:
        args.workers = default_workers()
    if not 1 <= args.workers <= 16:
        raise DataError(f"--workers must be 1..16, got {args.workers}", Location("<args>"))
    if not 1 <= args.max_batch <= 64:
        raise DataError(f"--max-batch must be 1..64, got {args.max_batch}", Location("<args>"))
    if not 0 <= args.batch_wait_ms <= 1000:
        raise DataError(f"--batch-wait-ms must be 0..1000, got {args.batch_wait_ms:g}", Location("<args>"))
    if args.cors is not None and not args.cors.startswith(("http://", "https://")):
        raise DataError(f"--cors wants an origin like https://example.org, got {args.cors!r}", Location("<args>"))
    t0 = time.perf_counter()
    if args.workers > 1:  # the workers' fork server imports torch & co. while this process imports the web stack
        from sashimi.serve.pool import start_fork_server

        start_fork_server()
    import uvicorn

    from sashimi.serve.app import ServeConfig, create_app

    config = ServeConfig(
        rate_per_minute=args.rate_limit, rate_burst=args.burst, cors_origin=args.cors, workers=args.workers,
        max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms,
    )
    app = create_app(model_dir=args.model, config=config)
    where = "in this process" if args.workers == 1 else f"in {args.workers} worker processes"
    print(f"model loaded {where} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if not _is_loopback(args.host):
        print(f"warning: binding {args.host}: the server is reachable from other machines", file=sys.stderr)
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="warning" if args.quiet else "info",
            access_log=not args.quiet,
            limit_concurrency=256,  # connections beyond this get 503 from uvicorn before reaching the app
            timeout_keep_alive=5,
            server_header=False,
        )
    finally:
        close = getattr(app.state.generator, "close", None)  # worker processes of --workers N
        if close is not None:
            close()
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
