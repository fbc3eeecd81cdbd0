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
    p.add_argument("--workers", type=int, default=1,
                   help="generations run at once (default 1; torch's threads are split between them)")
    p.add_argument("--quiet", action="store_true", help="no access log")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sashimi.serve.app import ServeConfig, create_app

    if not 0 <= args.port <= 65535:
        raise DataError(f"--port must be 0..65535, got {args.port}", Location("<args>"))
    if args.rate_limit <= 0 or args.burst < 1:
        raise DataError("--rate-limit must be > 0 and --burst >= 1", Location("<args>"))
    if not 1 <= args.workers <= 16:
        raise DataError(f"--workers must be 1..16, got {args.workers}", Location("<args>"))
    if args.cors is not None and not args.cors.startswith(("http://", "https://")):
        raise DataError(f"--cors wants an origin like https://example.org, got {args.cors!r}", Location("<args>"))
    t0 = time.perf_counter()
    if args.workers > 1:  # each generation gets its share of the cores instead of all of them
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // args.workers))
    config = ServeConfig(
        rate_per_minute=args.rate_limit, rate_burst=args.burst, cors_origin=args.cors, workers=args.workers
    )
    app = create_app(model_dir=args.model, config=config)
    print(f"model loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if not _is_loopback(args.host):
        print(f"warning: binding {args.host}: the server is reachable from other machines", file=sys.stderr)
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
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
