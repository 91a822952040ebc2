"""Search speed at national scale: 400,000 therapists at real ZIP centroids.

Times the search service (no HTTP) for a dense and a sparse query on SQLite and
PostgreSQL, next to the floor (the bare fetch of the radius box) and a naive
baseline (every row, geopy geodesic distance; timed on a sample, extrapolated).
It also times the page as shown: the same search with each result card's next
three free start times (one more query for the page) and its own reasons, side by
side with the search alone in one run; every therapist near the two queries gets
weekly hours (two ranges a day), some bookings and some time off first.

    .venv/bin/python bench/search.py [--count 400000] [--runs 60] [--sqlite-only | --postgres-only] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from geopy.distance import geodesic
from sqlalchemy import func, insert, select

from directory import create_app
from directory.clock import listing_days
from directory.extensions import db
from directory.geocoding import locate
from directory.matching.engine import ClientRequest
from directory.models import Booking, BookingStatus, TherapistProfile, TimeOff, WeeklyHours
from directory.search.candidates import floor_query, load_listings
from directory.search.services import run

QUERIES = {
    "dense (10001, 10 mi, stress+pain)": ("10001", dict(radius_miles=10, goals=("stress", "pain"))),
    "sparse (59301, 25 mi, stress+pain)": ("59301", dict(radius_miles=25, goals=("stress", "pain"))),
}


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


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


def open_calendars(places, miles: float, seed: int = 7) -> int:
    """Weekly hours (Monday to Friday 09:00-13:00 and 14:00-18:00, Saturday 10:00-14:00),
    up to four pending or confirmed bookings in the next two weeks and, for one in ten,
    a few days off, for every therapist within `miles` of the places; how many."""
    if db.session.scalar(select(func.count()).select_from(WeeklyHours)):
        return 0  # --keep: already there
    rng = random.Random(seed)
    today = listing_days()
    ids = sorted({r[0] for p in places for r in load_listings(p.latitude, p.longitude, miles, today)})
    hours, bookings, off = [], [], []
    for therapist_id in ids:
        for day in range(5):
            hours.append(dict(therapist_id=therapist_id, weekday=day, start_time=clock(9), end_time=clock(13)))
            hours.append(dict(therapist_id=therapist_id, weekday=day, start_time=clock(14), end_time=clock(18)))
        hours.append(dict(therapist_id=therapist_id, weekday=5, start_time=clock(10), end_time=clock(14)))
        days = rng.sample(range(1, 14), 4)
        for d in days[: rng.randrange(5)]:
            start = datetime.combine(today.latest + timedelta(days=d), clock(14 + rng.randrange(8)), UTC)
            bookings.append(
                dict(
                    therapist_id=therapist_id,
                    client_id=None,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=60),
                    minutes=60,
                    price_amount=90,
                    currency="USD",
                    status=rng.choice([BookingStatus.PENDING, BookingStatus.CONFIRMED]),
                    created_at=datetime.now(UTC),
                    buffer_minutes=0,
                    calendar_sequence=0,
                )
            )
        if rng.random() < 0.1:
            first = today.latest + timedelta(days=rng.randrange(7))
            off.append(dict(therapist_id=therapist_id, starts_on=first, ends_on=first + timedelta(days=3), note=""))
    with db.engine.begin() as conn:
        for model, rows in ((WeeklyHours, hours), (Booking, bookings), (TimeOff, off)):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(model.__table__), rows[start : start + 20_000])
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    return len(ids)


def bench_database(label, url, count, runs):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        seconds = dataset.load(count)
        total = db.session.scalar(select(db.func.count()).select_from(TherapistProfile))
        print(f"\n== {label}: {total:,} therapists (loaded in {seconds:.0f} s) ==")
        geocoder = app.extensions["geocoder"]
        days = listing_days()
        places = [locate(zip_code, geocoder) for zip_code, _ in QUERIES.values()]
        opened = open_calendars(places, 30)
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
            print(f"{name}: {result.outcome.total:,} matches of {candidates:,} listable in the box")
            print(f"  search service  p50 {s50:7.2f} ms   p95 {s95:7.2f} ms")
            cards = f"{with_times} of {len(page.outcome.results)} cards with free times"
            print(f"  page as shown   p50 {c50:7.2f} ms   p95 {c95:7.2f} ms   ({cards})")
            print(f"  floor (box)     p50 {f50:7.2f} ms   p95 {f95:7.2f} ms")
            print(f"  ratio search/floor  p50 {s50 / f50:5.2f}x   p95 {s95 / f95:5.2f}x")
            print(f"  ratio page/search   p50 {c50 / s50:5.2f}x   p95 {c95 / s95:5.2f}x   (target: p95 within 1.30x)")
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
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    )
    parser.add_argument("--keep", action="store_true", help="reuse the databases from the last run")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "directory-bench"
    folder.mkdir(exist_ok=True)
    sqlite_path = folder / f"bench-{args.count}.sqlite3"
    if not args.postgres_only:
        if not args.keep and sqlite_path.exists():
            sqlite_path.unlink()
        bench_database("SQLite", f"sqlite:///{sqlite_path}", args.count, args.runs)
    if not args.sqlite_only:
        if not args.keep:
            dataset.reset_database(args.pg_url)
        bench_database("PostgreSQL", args.pg_url, args.count, args.runs)


if __name__ == "__main__":
    main()
