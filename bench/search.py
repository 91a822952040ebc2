"""Search speed at national scale: 400,000 therapists at real ZIP centroids.

Times the search service (no HTTP) for a dense and a sparse query on SQLite and
PostgreSQL, next to the floor (the bare fetch of the radius box) and a naive
baseline (every row, geopy geodesic distance; timed on a sample, extrapolated).
It also times the page as shown: the same search with each result card's next
three free start times (one more query for the page) and its own reasons, side by
side with the search alone in one run; every therapist near the two queries gets
weekly hours (two ranges a day), some bookings and some time off first.

    .venv/bin/python bench/search.py [--size quick|national] [--count N] [--runs N]
                                     [--sqlite-only | --postgres-only] [--database URL] [--summary FILE]

A query that finds nothing, or a dataset that did not load every row, is a
failure: printed, no figure, exit status 1.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from common import APP_LIMITS, Run, add_arguments, percentile, sized
from geopy.distance import geodesic
from sqlalchemy import select

from directory import create_app
from directory.clock import listing_days
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
PRESETS = {
    "smoke": dict(count=60_000, runs=3),
    "quick": dict(count=100_000, runs=20),
    "national": dict(count=400_000, runs=60),
}


def timed_together(fns, runs):
    """Time the functions in alternation, so load on the machine falls on all
    alike; (p50, p95) in ms for each."""
    for fn in fns:
        fn()  # warm caches, as a running server would be
    samples = {fn: [] for fn in fns}
    for _ in range(runs):
        for fn in fns:
            t = time.perf_counter()
            fn()
            samples[fn].append((time.perf_counter() - t) * 1000)
    return [(statistics.median(samples[fn]), percentile(samples[fn], 95)) for fn in fns]


def bench_database(bench: Run, label, url, count, runs):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **APP_LIMITS)
    with app.app_context():
        seconds = dataset.load(count)
        total = db.session.scalar(select(db.func.count()).select_from(TherapistProfile))
        if total != count:
            bench.failures.add("rows not loaded", f"{label}: {total:,} therapists of {count:,}")
        bench.check(label)
        print(f"\n== {label}: {total:,} therapists (loaded in {seconds:.0f} s) ==", flush=True)
        geocoder = app.extensions["geocoder"]
        days = listing_days()
        places = [locate(zip_code, geocoder) for zip_code, _ in QUERIES.values()]
        opened = dataset.open_calendars(places, 30)
        if opened:
            print(f"weekly hours, bookings and time off for the {opened:,} therapists near the queries")
        for zip_code, params in QUERIES.values():
            place = locate(zip_code, geocoder)
            run(ClientRequest(latitude=place.latitude, longitude=place.longitude, **params), place)
        gc.collect()
        gc.freeze()  # as wsgi.py does once the app is loaded: long-lived objects leave the GC's scans
        for name, (zip_code, params) in QUERIES.items():
            place = locate(zip_code, geocoder)
            request = ClientRequest(latitude=place.latitude, longitude=place.longitude, **params)
            result = run(request, place)
            if not result.outcome.total:
                bench.failures.add("no matches", f"{label}, {name}: a search that finds nothing measures nothing")
                bench.check(label)
            candidates = len(load_listings(place.latitude, place.longitude, request.radius_miles, days))
            floor = floor_query(place.latitude, place.longitude, request.radius_miles)
            page = run(request, place, for_page=True)
            with_times = sum(1 for times in page.next_times.values() if times)
            (s50, s95), (c50, c95), (f50, f95) = timed_together(
                (
                    lambda request=request, place=place: run(request, place),
                    lambda request=request, place=place: run(request, place, for_page=True),
                    lambda floor=floor: db.session.connection().execute(*floor).all(),
                ),
                runs,
            )
            naive = naive_baseline(place)
            print(f"{name}: {result.outcome.total:,} matches of {candidates:,} listable in the box")
            print(f"  search service  p50 {s50:7.2f} ms   p95 {s95:7.2f} ms")
            cards = f"{with_times} of {len(page.outcome.results)} cards with free times"
            print(f"  page as shown   p50 {c50:7.2f} ms   p95 {c95:7.2f} ms   ({cards})")
            print(f"  floor (box)     p50 {f50:7.2f} ms   p95 {f95:7.2f} ms")
            print(f"  ratio search/floor  p50 {s50 / f50:5.2f}x   p95 {s95 / f95:5.2f}x")
            print(f"  ratio page/search   p50 {c50 / s50:5.2f}x   p95 {c95 / s95:5.2f}x   (target: p95 within 1.30x)")
            print(f"  naive baseline  ~{naive:,.0f} ms  (every row + geodesic, extrapolated)", end="")
            print(f"  -> search is {naive / s50:,.0f}x faster", flush=True)
            bench.record(
                f"{label} {name}",
                therapists=total,
                matches=result.outcome.total,
                listable_in_box=candidates,
                cards=len(page.outcome.results),
                cards_with_free_times=with_times,
                search_p50_ms=s50,
                search_p95_ms=s95,
                page_p50_ms=c50,
                page_p95_ms=c95,
                floor_p50_ms=f50,
                floor_p95_ms=f95,
                search_vs_floor_p50=s50 / f50,
                search_vs_floor_p95=s95 / f95,
                page_vs_search_p50=c50 / s50,
                page_vs_search_p95=c95 / s95,
                naive_ms=naive,
                naive_vs_search_p50=naive / s50,
            )


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
    add_arguments(parser)
    parser.add_argument("--count", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="reuse the databases from the last run")
    args = sized(parser.parse_args(), PRESETS)
    Run("search", args).main(lambda bench: search_bench(bench, args))


def search_bench(bench: Run, args) -> None:
    folder = Path(tempfile.gettempdir()) / "directory-bench"
    folder.mkdir(exist_ok=True)
    sqlite_path = folder / f"bench-{args.count}.sqlite3"
    if not args.postgres_only:
        if not args.keep and sqlite_path.exists():
            sqlite_path.unlink()
        bench_database(bench, "SQLite", f"sqlite:///{sqlite_path}", args.count, args.runs)
    if not args.sqlite_only:
        if not args.keep:
            dataset.reset_database(args.database)
        bench_database(bench, "PostgreSQL", args.database, args.count, args.runs)


if __name__ == "__main__":
    main()
