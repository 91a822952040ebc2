"""The admin queue with 10,000 pending credentials, and the NPPES import in bounded memory.

Prints, for each admin page, the queries one request costs and its p50/p95 time
through the test client (SQL, templates, everything but the network); then
streams a synthetic NPPES file (330 columns, 1 row in 20 a massage therapist)
through the import and prints rows per second and the peak Python memory.

    .venv/bin/python bench/paperwork.py [--pending 10000] [--nppes-rows 200000] [--database URL]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select

from directory import create_app
from directory.auth.passwords import hash_password
from directory.extensions import db
from directory.models import (
    Certification,
    CredentialStatus,
    License,
    RegistryLicense,
    RegistryProvider,
    RegistrySnapshot,
    Role,
    TherapistProfile,
    User,
    utcnow,
)
from directory.registry.npi import NPI_PREFIX, luhn_check_digit
from directory.registry.nppes import LICENSE, LICENSE_STATE, SLOTS, TAXONOMY, import_nppes

PASSWORD = "bench-orchid-harbor-31"
PAGES = [
    "/admin/verifications",
    "/admin/verifications?page=150",
    "/admin/verifications?q=IL-004242",
    "/admin/verifications?kind=license&age=7&state=IL",
    "/admin/therapists?status=pending",
    "/admin/audit",
]


def npi(n: int) -> str:
    body = f"1{n:08d}"
    return body + str(luhn_check_digit(NPI_PREFIX + body))


def build_queue(pending: int) -> None:
    """`pending` therapists with an NPI the registry knows, each with a pending license (every other
    one a pending certification too)."""
    now = utcnow()
    users = [
        {"email": f"t{n}@bench.example", "role": Role.THERAPIST, "name": f"Bench {n:05d}", "created_at": now}
        for n in range(pending)
    ]
    db.session.execute(insert(User), users)
    ids = db.session.scalars(select(User.id).where(User.email.like("%@bench.example")).order_by(User.id)).all()
    profiles = [
        {
            "user_id": uid,
            "name": f"Bench {n:05d}",
            "city": "Chicago",
            "state": "IL",
            "postal_code": "60601",
            "npi": npi(n),
            "created_at": now,
            "updated_at": now,
        }
        for n, uid in enumerate(ids)
    ]
    db.session.execute(insert(TherapistProfile), profiles)
    pids = db.session.scalars(select(TherapistProfile.id).order_by(TherapistProfile.id)).all()
    expires = date.today() + timedelta(days=365)
    db.session.execute(
        insert(License),
        [
            {
                "therapist_id": pid,
                "number": f"IL-{n:06d}",
                "state": "IL",
                "expires_on": expires,
                "status": CredentialStatus.PENDING,
                "submitted_at": now - timedelta(minutes=n),
            }
            for n, pid in enumerate(pids)
        ],
    )
    db.session.execute(
        insert(Certification),
        [
            {
                "therapist_id": pid,
                "slug": "prenatal",
                "status": CredentialStatus.PENDING,
                "submitted_at": now - timedelta(minutes=n, seconds=30),
            }
            for n, pid in enumerate(pids)
            if n % 2 == 0
        ],
    )
    db.session.add(
        RegistrySnapshot(
            file_name="npidata_pfile_20050523-20261109.csv", file_date=date(2026, 11, 9), providers=pending
        )
    )
    db.session.execute(
        insert(RegistryProvider),
        [{"npi": npi(n), "last_name": f"{n:05d}", "first_name": "BENCH", "state": "IL"} for n in range(pending)],
    )
    db.session.execute(
        insert(RegistryLicense),
        [
            {
                "npi": npi(n),
                "slot": 1,
                "state": "IL",
                "number": f"IL-{n:06d}",
                "number_key": f"IL{n}",
                "taxonomy": "225700000X",
            }
            for n in range(pending)
        ],
    )
    admin = User(
        email="admin@bench.example",
        name="Bench Admin",
        role=Role.ADMIN,
        password_hash=hash_password(PASSWORD),
        email_confirmed_at=now,
    )
    db.session.add(admin)
    db.session.commit()


def time_pages(app, runs: int) -> None:
    client = app.test_client()
    with app.app_context():
        page = client.get("/auth/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/auth/login", data={"email": "admin@bench.example", "password": PASSWORD, "csrf_token": token})
    print(f"{'page':52} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for url in PAGES:
        with app.app_context():
            statements: list[str] = []

            def listener(conn, cursor, statement, *args, seen=statements):
                seen.append(statement)

            event.listen(db.engine, "before_cursor_execute", listener)
            response = client.get(url)
            event.remove(db.engine, "before_cursor_execute", listener)
            if response.status_code != 200:  # a figure for an error page would mean nothing
                raise SystemExit(f"{url} answered {response.status_code}")
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        p50, p95 = statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]
        print(f"{url:52} {len(statements):>7} {p50:>8.1f} {p95:>8.1f}")


def write_nppes(path: Path, rows: int) -> None:
    """A file shaped like the real one: 330 columns, about one row in twenty a massage therapist."""
    header = [
        "NPI",
        "Entity Type Code",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Business Practice Location Address State Name",
    ]
    for n in SLOTS:
        header += [TAXONOMY.format(n), LICENSE.format(n), LICENSE_STATE.format(n)]
    header += [f"Other Column {i}" for i in range(330 - len(header))]
    filler = ["x" * 12] * (330 - 50)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for n in range(rows):
            taxonomy = "225700000X" if n % 20 == 0 else "207Q00000X"
            slots = [taxonomy, f"L{n}", "IL"] + ["", "", ""] * 14
            writer.writerow([npi(n), "1", f"LAST{n}", "FIRST", "IL", *slots, *filler])


def time_import(app, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "npidata_pfile_20050523-20261109.csv"
        write_nppes(path, rows)
        size = path.stat().st_size / 1e6
        with app.app_context():
            tracemalloc.start()
            t = time.perf_counter()
            with path.open(encoding="utf-8", newline="") as fh:
                report = import_nppes(fh, file_name=path.name, file_date=date(2026, 11, 9))
            seconds = time.perf_counter() - t
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    print(
        f"NPPES import: {rows:,} rows ({size:,.0f} MB), {report.kept:,} kept, {seconds:.1f} s, "
        f"{rows / seconds:,.0f} rows/s, {size / seconds:.0f} MB/s, peak Python memory {peak / 1e6:.1f} MB "
        f"(traced; the file itself is never held)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--nppes-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file); its tables are dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app(
            "testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=tmp, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
            t = time.perf_counter()
            build_queue(args.pending)
            print(
                f"{db.engine.dialect.name}: {args.pending:,} therapists with {args.pending * 3 // 2:,} pending "
                f"credentials built in {time.perf_counter() - t:.1f} s"
            )
        try:
            time_pages(app, args.runs)
            time_import(app, args.nppes_rows)
        finally:
            with app.app_context():
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


if __name__ == "__main__":
    main()
