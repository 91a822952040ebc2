"""HTTP load: gunicorn (2 workers) on PostgreSQL, the /search page and /api/v1/search, dense and sparse places.

    .venv/bin/python bench/http_load.py [--size quick|national] [--count N] [--seconds S] [--clients 8]
                                        [--service-requests N] [--database URL] [--keep] [--summary FILE]

Loads the benchmark dataset (bench/dataset.py) into its own database, gives the
therapists near the places searched weekly hours (so the page's cards show their
next free times), starts gunicorn on 127.0.0.1 with `wsgi:app` as production does,
then loads four kinds of request: the search page (HTML, with its cards) and the
API, each at dense places (ten city centres, 10 miles) and sparse ones (nine
rural towns, 25 miles).

First, in the same run, each kind's service time: one client, one request at a
time. Then the load: `--clients` keep-alive clients in threads of this process
for `--seconds`, the four kinds in turn. It prints per kind the requests served,
requests/s, p50/p95 under load beside the service time, and what share of the
machine's cores the load kept busy (requests/s x service time, summed over the
kinds), i.e. how near the throughput came to what those cores can serve at the
service times measured. Client and server share the cores: the figures are a floor.

The server's fair-use limit is set far above anything the run can send
(BENCH_RATE_LIMIT or --rate-limit set another). Any answer that is not a 200
with results (a 429 from a limit, a 500, an error page, a page without cards) is
a failure: the run prints the failures and no figure, and exits 1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import APP_LIMITS, ROOT, Failures, Run, add_arguments, percentile, rate_limit, sized
from sqlalchemy.engine import make_url

DENSE = ("10001", "60601", "90012", "77002", "85004", "19103", "98101", "30303", "02108", "94103")
SPARSE = ("59301", "69101", "57501", "58601", "67801", "81301", "59101", "99701", "82001")
# kind: (path, places, miles)
KINDS = {
    "page, dense": ("/search", DENSE, 10),
    "page, sparse": ("/search", SPARSE, 25),
    "api, dense": ("/api/v1/search", DENSE, 10),
    "api, sparse": ("/api/v1/search", SPARSE, 25),
}
PRESETS = {
    "smoke": dict(count=60_000, seconds=3.0, service_requests=3),
    "quick": dict(count=100_000, seconds=15.0, service_requests=20),
    "national": dict(count=400_000, seconds=30.0, service_requests=50),
}


def requests_of(kind: str) -> list[str]:
    path, places, miles = KINDS[kind]
    return [f"{path}?location={zip_code}&radius={miles}&goals=stress,pain" for zip_code in places]


def refusal(kind: str, status: int, body: bytes) -> str | None:
    """Why an answer does not count as served (None: it does): what users load is a page with
    cards, an API answer with results."""
    if status != 200:
        return f"HTTP {status}"
    if kind.startswith("page") and b'class="card result"' not in body:
        return "HTTP 200 page without cards"
    if kind.startswith("api") and (b'"results":[{' not in body):
        return "HTTP 200 answer without results"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(bench: Run, url: str, count: int, keep: bool) -> None:
    import dataset
    from sqlalchemy import func, select

    from directory import create_app
    from directory.extensions import db
    from directory.geocoding import locate
    from directory.models import TherapistProfile

    if not keep:
        dataset.reset_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **APP_LIMITS)
    with app.app_context():
        seconds = dataset.load(count)
        total = db.session.scalar(select(func.count()).select_from(TherapistProfile))
        if total != count:
            bench.failures.add("rows not loaded", f"{total:,} therapists of {count:,}")
        bench.check("the dataset")
        places = [locate(z, app.extensions["geocoder"]) for z in DENSE + SPARSE]
        opened = dataset.open_calendars(places, 30)
        db.session.remove()
        db.engine.dispose()
    print(f"dataset: {count:,} therapists ready ({seconds:.0f} s to load; {opened:,} given weekly hours)", flush=True)


def wait_until_up(server: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in time")


class Load:
    """Latencies (ms) of the answers served, by kind, and the failures."""

    def __init__(self, failures: Failures) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures = failures
        self.limit_header = ""

    def client(self, port: int, plan: list[tuple[str, str]], stop_at: float, offset: int = 0, count: int = 0) -> None:
        """Send the plan's requests in turn from `offset`, on one keep-alive connection, until
        `stop_at` (monotonic) has passed and at least `count` were sent."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset
        while time.monotonic() < stop_at or i - offset < count:
            kind, path = plan[i % len(plan)]
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.failures.add(type(exc).__name__, f"{kind}: {path}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if why := refusal(kind, response.status, body):
                self.failures.add(why, f"{kind}: {path}: {body[:160]!r}")
                continue
            if not self.limit_header and response.getheader("X-RateLimit-Limit"):
                self.limit_header = response.getheader("X-RateLimit-Limit") or ""
            self.latencies[kind].append(elapsed)
        conn.close()


def interleaved() -> list[tuple[str, str]]:
    """Every kind's requests, the kinds in turn: page dense, page sparse, api dense, api sparse, ..."""
    lists = {kind: requests_of(kind) for kind in KINDS}
    longest = max(len(paths) for paths in lists.values())
    return [(kind, lists[kind][i % len(lists[kind])]) for i in range(longest) for kind in KINDS]


def load_test(bench: Run, args) -> None:
    prepare(bench, args.database, args.count, args.keep)
    backend = make_url(args.database).get_backend_name()
    port = free_port()
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=args.database,
        PUBLIC_URL="https://truetouch.example",
        TRUSTED_HOSTS="127.0.0.1",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(args.workers),
        ACCESS_LOG="/dev/null",
        FAIR_API_RATE_LIMIT=args.rate_limit,
        GUNICORN_CMD_ARGS="--log-level warning",
    )
    env.pop("REDIS_URL", None)  # self-contained: limits counted in each worker, jobs in process
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env)
    try:
        wait_until_up(server, port)
        plan = interleaved()
        # Warm both workers' caches, as a server in service would have (3 s, and every kind twice from
        # each of two clients); a refusal here ends the run.
        warm = Load(bench.failures)
        stop = time.monotonic() + 3
        warmers = [threading.Thread(target=warm.client, args=(port, plan, stop, n, 2 * len(KINDS))) for n in range(2)]
        for t in warmers:
            t.start()
        for t in warmers:
            t.join()
        bench.check("warm-up")
        # Service time: one client, one request at a time, kind by kind.
        service = Load(bench.failures)
        for kind in KINDS:
            service.client(port, [(kind, p) for p in requests_of(kind)], 0, count=args.service_requests)
        # The load: the kinds in turn from every client.
        load = Load(bench.failures)
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=load.client, args=(port, plan, stop, n * 7)) for n in range(args.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    bench.check("the requests")
    report(bench, args, service, load, elapsed, cores, backend, load_before, warm.limit_header)


def report(bench: Run, args, service: Load, load: Load, elapsed: float, cores: int, backend, load_before, limit):
    total = sum(len(v) for v in load.latencies.values())
    print(
        f"\ngunicorn {args.workers} workers on {backend}, {args.count:,} therapists; {cores} cores "
        f"(load average {load_before:.1f} before); fair-use limit {args.rate_limit!r} (X-RateLimit-Limit {limit})"
    )
    print(
        f"service time: 1 client, {args.service_requests} requests per kind; "
        f"load: {args.clients} clients for {elapsed:.0f} s, the kinds in turn"
    )
    print(f"{'':14} {'service time (ms)':>19} | {'under load':>31} | {'':>16} {'capacity alone':>15}")
    print(
        f"{'kind':14} {'p50':>11} {'p95':>7} | {'served':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"| {'p95 load/service':>16} {'(' + str(cores) + ' cores)':>15}"
    )
    busy = 0.0
    for kind in KINDS:
        svc, under = service.latencies[kind], load.latencies[kind]
        s50, s95 = percentile(svc, 50), percentile(svc, 95)
        l50, l95 = percentile(under, 50), percentile(under, 95)
        rate = len(under) / elapsed
        alone = cores * 1000 / s50
        busy += rate * s50 / 1000
        print(
            f"{kind:14} {s50:11.1f} {s95:7.1f} | {len(under):7,} {rate:7.1f} {l50:7.1f} {l95:7.1f} "
            f"| {l95 / s95:15.1f}x {alone:9.0f} req/s"
        )
        bench.record(
            kind,
            service_p50_ms=s50,
            service_p95_ms=s95,
            served=len(under),
            requests_per_s=rate,
            load_p50_ms=l50,
            load_p95_ms=l95,
            load_vs_service_p95=l95 / s95,
            alone_capacity_requests_per_s=alone,
        )
    throughput = total / elapsed
    capacity = throughput * cores / busy if busy else float("nan")
    print(
        f"{'all':14} {'':11} {'':7} | {total:7,} {throughput:7.1f}  requests/s; 0 failed\n"
        f"at the service times, {cores} cores serve this mix at {capacity:,.0f} requests/s: the load reached "
        f"{throughput / capacity:.0%} of it ({busy:.2f} of {cores} cores busy serving; the clients share them)"
    )
    bench.record(
        "all",
        served=total,
        failed=0,
        seconds=elapsed,
        requests_per_s=throughput,
        capacity_requests_per_s=capacity,
        share_of_capacity=throughput / capacity,
        cores=cores,
        workers=args.workers,
        clients=args.clients,
        rate_limit=limit,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--count", type=int, help="therapists in the dataset")
    parser.add_argument("--seconds", type=float, help="how long the load lasts")
    parser.add_argument("--service-requests", type=int, help="requests per kind for the service time")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate-limit", default=rate_limit(), help="the server's FAIR_API_RATE_LIMIT")
    parser.add_argument("--keep", action="store_true", help="reuse the database from the last run")
    args = sized(parser.parse_args(), PRESETS)
    Run("http_load", args).main(lambda bench: load_test(bench, args))


if __name__ == "__main__":
    main()
