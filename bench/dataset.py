"""A national-scale dataset for the benchmarks: therapists at real ZIP centroids.

Shared by bench/search.py and bench/http_load.py; writes straight to the tables
(bulk insert on SQLite, COPY on PostgreSQL) so 400,000 therapists load in a minute.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from directory.clock import listing_days, today_in
from directory.extensions import db
from directory.geo import gazetteer
from directory.matching import summary
from directory.models import (
    Booking,
    BookingStatus,
    Certification,
    License,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    TimeOff,
    User,
    WeeklyHours,
)
from directory.search.candidates import load_listings

PRACTICES = (
    ("swedish", "deep_tissue"),
    ("swedish", "deep_tissue", "trigger_point"),
    ("sports", "deep_tissue", "trigger_point"),
    ("swedish", "reflexology"),
    ("swedish", "prenatal"),
    ("swedish", "oncology"),
    ("deep_tissue", "trigger_point"),
    ("swedish",),
    ("swedish", "deep_tissue", "sports"),
)
CERTS = {"prenatal": "prenatal", "oncology": "oncology", "sports": "sports", "reflexology": "reflexology"}


def zip_places():
    by_zip, by_city = gazetteer()
    return sorted((p for places in by_city.values() for p in places), key=lambda p: p.zip_code)


def generate(count: int, seed: int = 1):
    """Yield row dicts per table for `count` therapists spread over every US ZIP."""
    rng = random.Random(seed)
    places = zip_places()
    today = today_in(UTC)
    now = datetime.now(UTC)
    users, profiles, licenses, techniques, prices, certs = [], [], [], [], [], []
    for i in range(1, count + 1):
        place = places[rng.randrange(len(places))]
        practice = PRACTICES[rng.randrange(len(PRACTICES))]
        users.append(
            {
                "id": i,
                "email": f"t{i}@bench.example",
                "role": "therapist",
                "name": f"Therapist {i}",
                "created_at": now,
                "session_token": f"bench-{i}",
            }
        )
        profiles.append(
            {
                "id": i,
                "user_id": i,
                "name": f"Therapist {i}",
                "bio": "",
                "gender": rng.choice(("female", "female", "female", "male", "nonbinary")),
                "languages": "en;es" if rng.random() < 0.2 else "en",
                "years_experience": rng.randint(1, 30),
                "hsa_fsa": rng.random() < 0.4,
                "accepting_new_clients": rng.random() < 0.9,
                "mobile_radius_miles": rng.choice((5.0, 10.0, 20.0)) if rng.random() < 0.25 else None,
                "address": "",
                "city": place.city,
                "state": place.state,
                "postal_code": place.zip_code,
                "latitude": place.latitude,
                "longitude": place.longitude,
                "shown_latitude": place.latitude,  # no booking settings: nothing hidden
                "shown_longitude": place.longitude,
                "timezone": place.timezone,
                "created_at": now,
                "updated_at": now,
                "rating_count": 0,
                "rating_average": None,
                "location_label": f"{place.city}, {place.state} {place.zip_code}",
            }
        )
        unlisted = rng.random()
        licenses.append(
            {
                "id": i,
                "therapist_id": i,
                "number": f"B-{i:07d}",
                "state": place.state,
                "expires_on": today + timedelta(days=rng.randint(-60, 900))
                if unlisted > 0.03
                else today - timedelta(days=5),
                "status": "pending" if unlisted < 0.02 else "verified",
                "verified_at": now,
                "verified_via": "bench",
                "submitted_at": now,
            }
        )
        techniques.extend({"therapist_id": i, "technique": t} for t in practice)
        base = rng.randrange(70, 130, 5)
        mine = [{"therapist_id": i, "minutes": 60, "amount": base}]
        if rng.random() < 0.6:
            mine.insert(0, {"therapist_id": i, "minutes": 30, "amount": base * 6 // 10})
        if rng.random() < 0.5:
            mine.append({"therapist_id": i, "minutes": 90, "amount": base * 3 // 2})
        prices.extend(mine)
        my_certs = sorted({CERTS[t] for t in practice if t in CERTS and rng.random() < 0.8})
        certs.extend(
            {"therapist_id": i, "slug": c, "status": "verified", "verified_at": now, "submitted_at": now}
            for c in my_certs
        )
        lic = licenses[-1]
        # The listing summary, as therapists/listing.py would compute it.
        profiles[-1].update(
            listed_until=lic["expires_on"] if lic["status"] == "verified" else None,
            search_techniques=summary.techniques_text(practice),
            search_certifications=summary.certifications_text((c, None) for c in my_certs),
            search_prices=summary.prices_text((p["minutes"], Decimal(p["amount"])) for p in mine),
        )
    return {
        User: users,
        TherapistProfile: profiles,
        License: licenses,
        TherapistTechnique: techniques,
        SessionPrice: prices,
        Certification: certs,
    }


def reset_database(url: str) -> str:
    """Make a fresh, empty database for the benchmark (PostgreSQL: a database of its own; SQLite: a new file)."""
    from sqlalchemy import create_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).unlink(missing_ok=True)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    return url


def load(count: int, seed: int = 1) -> float:
    """Create the schema and load `count` therapists into the app's database; seconds taken."""
    started = time.perf_counter()
    db.create_all()
    existing = db.session.scalar(select(func.count()).select_from(TherapistProfile))
    if existing == count:
        return 0.0
    tables = generate(count, seed)
    if db.engine.dialect.name == "postgresql":
        _copy(tables)
    else:
        with db.engine.begin() as conn:
            for model, rows in tables.items():
                for start in range(0, len(rows), 50_000):
                    conn.execute(insert(model.__table__), rows[start : start + 50_000])
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # As autovacuum would on a live server: statistics, and the visibility map
        # that lets PostgreSQL answer from the index alone.
        conn.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - started


def _copy(tables) -> None:
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for model, rows in tables.items():
            columns = list(rows[0])
            with cur.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        for table in ("users", "therapist_profiles", "licenses", "certifications"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
    finally:
        raw.close()


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
