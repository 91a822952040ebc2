"""Import at national scale: the documented CSV for N therapists, imported with --verified.

Generates N rows at real ZIP centroids (most placed from their ZIP code, some
with coordinates, some from city and state), imports them into a fresh
database, then imports a changed copy (every row an update), each in a process
of its own, and prints seconds, rows/s and the process's peak RSS, next to a
floor measured in the same run: the bare COPY of the same file into one
unindexed table (PostgreSQL), a bare executemany of the same tuples (SQLite).
After the re-import it shows that the search's box fetch reads the index alone
(the import ends with VACUUM (ANALYZE)), and what the schema itself costs: the
same rows copied table to table by the database into empty copies of the six
tables, with all their indexes, checks and foreign keys, then without the
foreign keys (the floor no import into this schema can beat).

    .venv/bin/python bench/import.py [--size quick|national] [--count N] [--sqlite-count N]
                                     [--skip-sqlite] [--skip-postgres] [--database URL] [--summary FILE]

PostgreSQL: the database `bulk_big` (--database), dropped and created afresh.
An import that fails or leaves a row out (the first import must create every
row, the re-import update every row) is a failure: printed, no figure, exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
import psycopg
from common import APP_LIMITS, Run, add_arguments, sized

from directory.clock import today_in
from directory.therapists.demo import FEMALE, LAST, MALE, NONBINARY, PRACTICES, SPECIALTY_SENTENCES
from directory.therapists.importer import COLUMNS
from directory.vocabulary import STATES

PG_URL = os.environ.get("BENCH_IMPORT_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bulk_big")
PRESETS = {
    "smoke": dict(count=2_000, sqlite_count=2_000),
    "quick": dict(count=25_000, sqlite_count=25_000),
    "national": dict(count=400_000, sqlite_count=400_000),
}


def write_csv(path: Path, count: int, *, seed: int = 1, changed: bool = False) -> None:
    """The documented format, row by row (never the whole file in memory). `changed`: the
    same therapists with new prices and bios, so that every row of a re-import updates."""
    rng = random.Random(seed)
    places = [p for p in dataset.zip_places() if p.state in STATES]
    practices = [p for p in PRACTICES for _ in range(p[2])]
    today = today_in(UTC)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for i in range(1, count + 1):
            place = places[rng.randrange(len(places))]
            roll = rng.random()
            gender = "female" if roll < 0.74 else "male" if roll < 0.97 else "nonbinary"
            first = rng.choice({"female": FEMALE, "male": MALE, "nonbinary": NONBINARY}[gender])
            last = rng.choice(LAST)
            techniques, certifications, _ = rng.choice(practices)
            certs = list(certifications) + (["board_certified"] if rng.random() < 0.25 else [])
            base = rng.randrange(70, 125, 5) + (5 if changed else 0)
            prices = {60: base}
            if rng.random() < 0.6:
                prices[30] = max(35, int(base * 0.6) // 5 * 5)
            if rng.random() < 0.45:
                prices[90] = int(base * 1.45) // 5 * 5
            where = rng.random()
            placed = where < 0.2  # coordinates given
            by_city = 0.2 <= where < 0.3  # city and state only: geocoded by name
            years = rng.randint(1, 28)
            bio = " ".join(
                [f"Licensed massage therapist, {years} years in {place.city}."]
                + [SPECIALTY_SENTENCES[t] for t in techniques]
                + (["Now also offering evening sessions."] if changed else [])
            )
            lapsed = rng.random() < 0.03
            expires = today + timedelta(days=-rng.randint(1, 200) if lapsed else rng.randint(30, 900))
            writer.writerow(
                [
                    f"{first} {last}",
                    f"{first}.{last}.{i}@example.com".lower(),
                    f"{place.state}-LMT-{i:07d}",
                    place.state,
                    expires.isoformat(),
                    ";".join(techniques),
                    ";".join(certs),
                    prices.get(30, ""),
                    "",
                    prices[60],
                    prices.get(90, ""),
                    f"{rng.randint(1, 9999)} Main St" if rng.random() < 0.5 else "",
                    place.city if by_city else "",
                    place.state if by_city else "",
                    "" if by_city else place.zip_code,
                    f"{place.latitude + rng.uniform(-0.01, 0.01):.6f}" if placed else "",
                    f"{place.longitude + rng.uniform(-0.01, 0.01):.6f}" if placed else "",
                    gender,
                    "en;es" if rng.random() < 0.2 else "en",
                    "yes" if rng.random() < 0.4 else "no",
                    "yes" if rng.random() < 0.9 else "no",
                    rng.choice((5, 10, 20)) if rng.random() < 0.25 else "",
                    bio,
                ]
            )


def child(url: str, path: str) -> None:
    """One import in this process: print its figures as JSON."""
    from sqlalchemy import create_engine, func, select

    from directory import create_app
    from directory.extensions import db
    from directory.models import TherapistProfile

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **APP_LIMITS)
    with app.app_context():
        db.create_all()
        # The server process the import will use (the pool hands the same connection back):
        # its CPU seconds, read from /proc, say what the database spent whatever the load.
        backend = (
            db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar() if "postgres" in url else 0
        )
        db.session.commit()
        server_before, client_before = cpu_seconds(backend), time.process_time()
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["therapists", "import", path, "--verified"])
        seconds = time.perf_counter() - started
        client, server = time.process_time() - client_before, cpu_seconds(backend) - server_before
    # Counted on a connection of its own, without the app's SQLite settings: its memory map of the
    # file would count in this process's peak memory, which is the import's figure.
    counter = create_engine(url)
    with counter.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(TherapistProfile))
    counter.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"seconds": seconds, "peak_mb": peak, "client_cpu": client, "server_cpu": server, "total": total}
    print(json.dumps(figures | {"output": result.output.strip()[-300:]}))


def cpu_seconds(pid: int) -> float:
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_import(bench: Run, label: str, url: str, path: Path, count: int, *, changed: bool) -> dict:
    """One import in a process of its own; a failed import, or one that did not create (or, when
    `changed`, update) every row, goes to the run's failures."""
    done = subprocess.run([sys.executable, __file__, "--child", url, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        bench.failures.add(f"{label}: import process exit status {done.returncode}", done.stderr[-1000:])
        return {}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    output = figures["output"]
    expected = f"{count:,} therapists: {0 if changed else count:,} new, {count if changed else 0:,} updated"
    if not output.startswith("Imported") or expected not in output:
        bench.failures.add(f"{label}: rows not imported", f"expected {expected!r}; the import said {output!r}")
    elif figures["total"] != count:
        bench.failures.add(f"{label}: rows missing", f"{figures['total']:,} therapists after, {count:,} expected")
    return figures


def floor_postgres(url: str, path: Path) -> float:
    """The bare COPY of the file into one unindexed table."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("CREATE TEMPORARY TABLE floor (" + ", ".join(f"{c} text" for c in COLUMNS) + ")")
        started = time.perf_counter()
        with conn.cursor().copy("COPY floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - started


def floor_sqlite(path: Path) -> float:
    """A bare executemany of the same tuples into one unindexed table."""
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(Path(folder) / "floor.sqlite3")
        conn.execute("CREATE TABLE floor (" + ", ".join(COLUMNS) + ")")
        started = time.perf_counter()
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            conn.executemany(f"INSERT INTO floor VALUES ({', '.join('?' * len(COLUMNS))})", reader)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.close()
        return seconds


# The tables an import writes (and documents, which two of them refer to), in the order their
# foreign keys need.
WRITTEN = (
    "users",
    "documents",
    "therapist_profiles",
    "licenses",
    "certifications",
    "therapist_techniques",
    "session_prices",
)


def schema_floor(url: str, *, foreign_keys: bool) -> float:
    """What the schema itself costs: the rows the import wrote, copied by the database from table
    to table into empty copies of the same tables (their indexes, checks and, when
    `foreign_keys`, foreign keys), in a scratch schema (an attached file on SQLite) dropped after. No
    parsing, checking or staging: the time no import into this schema can beat."""
    from sqlalchemy import create_engine

    from directory.extensions import db
    from directory.models import User  # noqa: F401 (the models fill db.metadata)

    tables = [db.metadata.tables[name] for name in WRITTEN]
    postgres = url.startswith("postgresql")
    engine = create_engine(url)
    with tempfile.TemporaryDirectory() as folder, engine.connect() as conn:
        try:
            if postgres:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS floor CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA floor")
            else:
                conn.exec_driver_sql(f"ATTACH DATABASE '{Path(folder) / 'floor.sqlite3'}' AS floor")
                conn.exec_driver_sql("PRAGMA foreign_keys = " + ("ON" if foreign_keys else "OFF"))
            copies = conn.execution_options(schema_translate_map={None: "floor"})
            db.metadata.create_all(copies, tables=tables)
            if postgres and not foreign_keys:
                for name, constraint in conn.exec_driver_sql(
                    "SELECT conrelid::regclass::text, conname FROM pg_constraint "
                    "WHERE contype = 'f' AND connamespace = 'floor'::regnamespace"
                ).all():
                    conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {constraint}")
            conn.commit()
            started = time.perf_counter()
            for table in tables:
                columns = ", ".join(c.name for c in table.c)
                conn.exec_driver_sql(f"INSERT INTO floor.{table.name} ({columns}) SELECT {columns} FROM {table.name}")
            conn.commit()
            seconds = time.perf_counter() - started
        finally:
            conn.rollback()
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS floor CASCADE" if postgres else "DETACH DATABASE floor")
            conn.commit()
            engine.dispose()
    return seconds


def box_fetch(url: str) -> str:
    """The search's dense box fetch right after the import: its time and heap fetches."""
    from directory import create_app
    from directory.extensions import db
    from directory.geocoding import locate
    from directory.search.candidates import floor_query

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        place = locate("10001", app.extensions["geocoder"])
        statement, params = floor_query(place.latitude, place.longitude, 10)
        conn = db.session.connection()
        conn.execute(statement, params).all()
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            conn.execute(statement, params).all()
            samples.append((time.perf_counter() - started) * 1000)
        compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE) " + str(compiled), compiled.construct_params(params)).all()
        fetches = next((line[0].strip() for line in plan if "Heap Fetches" in line[0]), "no index-only scan")
        server = next((line[0].strip() for line in plan if line[0].startswith("Execution Time")), "")
        db.session.rollback()
    samples.sort()
    return (
        f"dense box fetch (10001, 10 mi) right after: p50 {samples[len(samples) // 2]:.1f} ms with the rows "
        f"in Python; on the server {server.lower()}; {fetches}"
    )


def report(label: str, count: int, first: dict, again: dict, floor: float, schema: tuple[float, float]) -> None:
    print(f"\n== {label}: {count:,} therapists, --verified ==")
    for name, fig in (("first import", first), ("re-import (all updates)", again)):
        print(
            f"  {name:24} {fig['seconds']:7.1f} s  {count / fig['seconds']:9,.0f} rows/s  "
            f"peak RSS {fig['peak_mb']:4.0f} MB  CPU: import {fig['client_cpu']:5.1f} s, "
            f"database {fig['server_cpu']:5.1f} s  ({fig['total']:,} therapists after)"
        )
    ratio = first["seconds"] / floor
    print(f"  {'floor':24} {floor:7.1f} s  {count / floor:9,.0f} rows/s   first import = {ratio:.1f}x floor")
    with_keys, without = schema
    print(
        f"  {'schema floor':24} {with_keys:7.1f} s  {count / with_keys:9,.0f} rows/s   first import = "
        f"{first['seconds'] / with_keys:.1f}x: the rows copied table to table by the database, with every "
        f"index, check and foreign key (without the foreign keys: {without:.1f} s)"
    )


def bench(run: Run, label: str, url: str, count: int, folder: Path) -> None:
    first_csv, again_csv = folder / f"import-{count}.csv", folder / f"import-{count}-changed.csv"
    write_csv(first_csv, count)
    write_csv(again_csv, count, changed=True)
    load = os.getloadavg()[0]
    print(
        f"\n{label}: {count:,} rows, {first_csv.stat().st_size / 1e6:.0f} MB of CSV; load average {load:.1f}",
        flush=True,
    )
    first = run_import(run, label, url, first_csv, count, changed=False)
    run.check(f"{label}, the first import")
    again = run_import(run, label, url, again_csv, count, changed=True)
    run.check(f"{label}, the re-import")
    floor = floor_postgres(url, first_csv) if url.startswith("postgresql") else floor_sqlite(first_csv)
    schema = (schema_floor(url, foreign_keys=True), schema_floor(url, foreign_keys=False))
    report(label, count, first, again, floor, schema)
    run.record(
        label,
        rows=count,
        first_import_s=first["seconds"],
        first_import_rows_per_s=count / first["seconds"],
        first_import_peak_rss_mb=first["peak_mb"],
        reimport_s=again["seconds"],
        reimport_rows_per_s=count / again["seconds"],
        reimport_peak_rss_mb=again["peak_mb"],
        import_cpu_s=first["client_cpu"],
        database_cpu_s=first["server_cpu"],
        floor_s=floor,
        first_import_vs_floor=first["seconds"] / floor,
        schema_floor_s=schema[0],
        schema_floor_without_foreign_keys_s=schema[1],
        first_import_vs_schema_floor=first["seconds"] / schema[0],
    )
    if url.startswith("postgresql"):
        print("  " + box_fetch(url))
    first_csv.unlink()
    again_csv.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, PG_URL)
    parser.add_argument("--count", type=int, help="rows on PostgreSQL")
    parser.add_argument("--sqlite-count", type=int, help="rows on SQLite")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args = sized(args, PRESETS)
    Run("import", args).main(lambda run: import_bench(run, args))


def import_bench(run: Run, args) -> None:
    with tempfile.TemporaryDirectory(prefix="import-bench-") as name:
        folder = Path(name)
        if not args.skip_postgres:
            dataset.reset_database(args.database)
            bench(run, "PostgreSQL", args.database, args.count, folder)
        if not args.skip_sqlite:
            bench(run, "SQLite", f"sqlite:///{folder / 'import.sqlite3'}", args.sqlite_count, folder)


if __name__ == "__main__":
    main()
