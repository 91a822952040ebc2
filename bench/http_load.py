"""HTTP load recipe: gunicorn with 2 workers on PostgreSQL, /api/v1/search at 8 concurrent clients.

    .venv/bin/python bench/http_load.py [--count 400000] [--seconds 20] [--clients 8] [--keep]

Loads the national dataset into its own PostgreSQL database (as bench/search.py
does), starts gunicorn on 127.0.0.1, sends searches from keep-alive clients in
threads of this process for a fixed time, then prints requests per second and
latency percentiles. Traffic goes to loopback only, and the run stops itself.
Client and server share this machine's cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ZIPS = (
    "10001",
    "60601",
    "90012",
    "77002",
    "85004",
    "19103",
    "78205",
    "92101",
    "75201",
    "78701",
    "98101",
    "80202",
    "02108",
    "30303",
    "33130",
    "97204",
    "55401",
    "37203",
    "20001",
    "94103",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, count: int, keep: bool) -> None:
    import dataset

    from directory import create_app

    if not keep:
        dataset.reset_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        seconds = dataset.load(count)
        print(f"dataset: {count:,} therapists ready ({seconds:.0f} s to load)")


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz in time")


def client(port: int, stop_at: float, latencies: list, errors: list, offset: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = offset
    while time.monotonic() < stop_at:
        path = f"/api/v1/search?location={ZIPS[i % len(ZIPS)]}&radius=10&goals=stress,pain"
        i += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="reuse the database from the last run")
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    )
    args = parser.parse_args()

    prepare(args.pg_url, args.count, args.keep)
    port = free_port()
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=args.pg_url,
        PUBLIC_URL="https://truetouch.example",
        TRUSTED_HOSTS="127.0.0.1",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(args.workers),
        ACCESS_LOG="/dev/null",
    )
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env)
    try:
        wait_until_up(port)
        # Warm each worker's caches, as a server in service would have.
        warm_latencies, warm_errors = [], []
        client(port, time.monotonic() + 2, warm_latencies, warm_errors, 0)
        latencies, errors = [], []
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client, args=(port, stop_at, latencies, errors, n)) for n in range(args.clients)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")
    print(f"gunicorn {args.workers} workers, PostgreSQL, {args.clients} concurrent clients, {elapsed:.0f} s")
    print(f"  requests     {len(latencies):,} ok, {len(errors)} failed")
    print(f"  throughput   {len(latencies) / elapsed:,.1f} requests/s")
    if ordered:
        print(f"  latency      p50 {statistics.median(ordered):.1f} ms   p95 {p95:.1f} ms   max {ordered[-1]:.1f} ms")


if __name__ == "__main__":
    main()
