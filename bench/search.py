"""Search speed at national scale: 400,000 therapists at real ZIP centroids.

Times the search service (no HTTP) for a dense and a sparse query on SQLite and
PostgreSQL, next to the floor (the bare fetch of the radius box) and a naive
baseline (every row, geopy geodesic distance; timed on a sample, extrapolated).

    .venv/bin/python bench/search.py [--count 400000] [--runs 60] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from geopy.distance import geodesic
from sqlalchemy import select

from directory import create_app
from directory.extensions import db
from directory.geocoding import locate
from directory.matching.engine import ClientRequest
from directory.models import TherapistProfile
from directory.search.candidates import floor_query, load_listings
from directory.search.services import run

QUERIES = {
    "dense (10001, 10 mi, stress+pain)": ("10001", dict(radius_miles=10, goals=("stress", "pain"))),
    "sparse (59301, 25 mi, stress+pain)": ("59301", dict(radius_miles=25, goals=("stress", "pain"))),
}


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timed_pair(search, floor, runs):
    """Time the search and the floor in alternation, so load on the machine
    falls on both alike; (p50, p95) in ms for each."""
    search(), floor()  # warm caches, as a running server would be
    samples = {search: [], floor: []}
    for _ in range(runs):
        for fn in (search, floor):
            t = time.perf_counter()
            fn()
            samples[fn].append((time.perf_counter() - t) * 1000)
    return [(statistics.median(samples[fn]), percentile(samples[fn], 95)) for fn in (search, floor)]


def bench_database(label, url, count, runs):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        seconds = dataset.load(count)
        total = db.session.scalar(select(db.func.count()).select_from(TherapistProfile))
        print(f"\n== {label}: {total:,} therapists (loaded in {seconds:.0f} s) ==")
        geocoder = app.extensions["geocoder"]
        today = date.today()
        for zip_code, params in QUERIES.values():
            place = locate(zip_code, geocoder)
            run(ClientRequest(latitude=place.latitude, longitude=place.longitude, **params), place, on=today)
        gc.collect()
        gc.freeze()  # as wsgi.py does once the app is loaded: long-lived objects leave the GC's scans
        for name, (zip_code, params) in QUERIES.items():
            place = locate(zip_code, geocoder)
            request = ClientRequest(latitude=place.latitude, longitude=place.longitude, **params)
            result = run(request, place, on=today)
            candidates = len(load_listings(place.latitude, place.longitude, request.radius_miles, today))
            floor = floor_query(place.latitude, place.longitude, request.radius_miles)
            (s50, s95), (f50, f95) = timed_pair(
                lambda request=request, place=place: run(request, place, on=today),
                lambda floor=floor: db.session.connection().execute(*floor).all(),
                runs,
            )
            print(f"{name}: {result.outcome.total:,} matches of {candidates:,} listable in the box")
            print(f"  search service  p50 {s50:7.2f} ms   p95 {s95:7.2f} ms")
            print(f"  floor (box)     p50 {f50:7.2f} ms   p95 {f95:7.2f} ms")
            print(f"  ratio search/floor  p50 {s50 / f50:5.2f}x   p95 {s95 / f95:5.2f}x")
            naive = naive_baseline(place)
            print(f"  naive baseline  ~{naive:,.0f} ms  (every row + geodesic, extrapolated)", end="")
            print(f"  -> search is {naive / s50:,.0f}x faster")


def naive_baseline(place, sample=5000):
    t = time.perf_counter()
    rows = db.session.execute(select(TherapistProfile.id, TherapistProfile.latitude, TherapistProfile.longitude)).all()
    fetch = time.perf_counter() - t
    origin = (place.latitude, place.longitude)
    t = time.perf_counter()
    for _, lat, lon in rows[:sample]:
        _ = geodesic(origin, (lat, lon)).miles
    per_row = (time.perf_counter() - t) / min(sample, len(rows))
    return (fetch + per_row * len(rows)) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    )
    parser.add_argument("--keep", action="store_true", help="reuse the databases from the last run")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "directory-bench"
    folder.mkdir(exist_ok=True)
    sqlite_path = folder / f"bench-{args.count}.sqlite3"
    if not args.keep and sqlite_path.exists():
        sqlite_path.unlink()
    bench_database("SQLite", f"sqlite:///{sqlite_path}", args.count, args.runs)
    if not args.sqlite_only:
        if not args.keep:
            dataset.reset_database(args.pg_url)
        bench_database("PostgreSQL", args.pg_url, args.count, args.runs)


if __name__ == "__main__":
    main()
