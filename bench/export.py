"""Bulk export at national scale: 400,000 therapists on PostgreSQL.

Loads the benchmark set (bench/dataset.py, with weekday hours for everyone) into
its own database, then runs `flask therapists export` once per format as a
separate process and prints its wall time, rows per second and peak memory
(the child's maximum resident set size, from wait4).

    .venv/bin/python bench/export.py [--size quick|national] [--count N] [--formats csv,hsds,fhir]
                                     [--database URL] [--keep] [--summary FILE]

An export that fails, or whose file lacks a listable therapist (the CSV's rows, the
HSDS lines, the FHIR lines: one per resource), is a failure: printed, no figure,
exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from common import APP_LIMITS, Run, add_arguments, sized
from sqlalchemy import func, select, text

from directory import create_app
from directory.extensions import db
from directory.feeds import fhir
from directory.models import TherapistProfile, WeeklyHours

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = os.environ.get("EXPORT_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/feeds_big")
PRESETS = {"smoke": dict(count=5_000), "quick": dict(count=20_000), "national": dict(count=400_000)}


def load(bench: Run, url: str, count: int) -> int:
    """The benchmark set with Monday-to-Friday hours; the number of listable therapists."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **APP_LIMITS)
    with app.app_context():
        seconds = dataset.load(count)
        if not db.session.scalar(select(func.count()).select_from(WeeklyHours)):
            db.session.execute(
                text(
                    "INSERT INTO weekly_hours (therapist_id, weekday, start_time, end_time) "
                    "SELECT p.id, d, '09:00', '17:00' FROM therapist_profiles p CROSS JOIN generate_series(0, 4) d"
                )
            )
            db.session.commit()
        listable = db.session.scalar(
            select(func.count()).select_from(TherapistProfile).where(TherapistProfile.listable_clause())
        )
        total = db.session.scalar(select(func.count()).select_from(TherapistProfile))
        if total != count:
            bench.failures.add("rows not loaded", f"{total:,} therapists of {count:,}")
        bench.check("the dataset")
        print(f"{total:,} therapists ({listable:,} listable), loaded in {seconds:.0f} s", flush=True)
    return listable or 0


# The export runs under this small launcher, which waits for it and reports its
# peak RSS. Linux carries a process's high-water RSS across exec, and a child
# forked straight from this script would start with the dataset's memory counted.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - started, "status": os.waitstatus_to_exitcode(status),
                  "rss_kib": usage.ru_maxrss, "errors": child.stderr.read().decode()[-2000:]}))
"""


def run(bench: Run, fmt: str, url: str, out: Path, listable: int) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one export in its own process; a failed export, or a file
    without every listable therapist, goes to the run's failures."""
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    flask = str(Path(sys.executable).parent / "flask")
    command = [sys.executable, "-c", LAUNCHER, flask, "therapists", "export", "--format", fmt, "--out", str(out)]
    report = json.loads(subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True).stdout)
    if report["status"] != 0:
        bench.failures.add(f"export --format {fmt} exit status {report['status']}", report["errors"])
        return 0.0, 0
    expected = listable * (len(fhir.BUILDERS) if fmt == "fhir" else 1)
    written = records(fmt, out)
    if written != expected:
        bench.failures.add(
            f"{fmt}: records missing", f"{written:,} records written, {expected:,} expected ({report['errors'][-200:]})"
        )
    return report["seconds"], report["rss_kib"]  # KiB on Linux


def records(fmt: str, path: Path) -> int:
    """The records in an exported file: the CSV's rows after the header, the ndjson's non-empty lines."""
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, DEFAULT_URL, "--url")
    parser.add_argument("--count", type=int)
    parser.add_argument("--formats", default="csv,hsds,fhir")
    parser.add_argument("--keep", action="store_true", help="reuse the database from the last run")
    args = sized(parser.parse_args(), PRESETS)
    Run("export", args).main(lambda bench: export_bench(bench, args))


def export_bench(bench: Run, args) -> None:
    if not args.keep:
        dataset.reset_database(args.database)
    rows = load(bench, args.database, args.count)
    results = []
    with tempfile.TemporaryDirectory(prefix="export-bench-") as folder:
        for fmt in args.formats.split(","):
            out = Path(folder) / f"directory.{fmt}"
            seconds, rss_kib = run(bench, fmt, args.database, out, rows)
            size = out.stat().st_size if out.exists() else 0
            results.append((fmt, seconds, rss_kib, size))
            out.unlink(missing_ok=True)
    bench.check("the exports")
    print(f"{'format':<6} {'wall s':>8} {'rows/s':>9} {'peak RSS':>10} {'file':>9}")
    for fmt, seconds, rss_kib, size in results:
        print(f"{fmt:<6} {seconds:8.1f} {rows / seconds:9,.0f} {rss_kib / 1024:7.0f} MiB {size / 2**20:6.0f} MiB")
        bench.record(
            fmt,
            therapists=rows,
            seconds=seconds,
            rows_per_s=rows / seconds,
            peak_rss_mib=rss_kib / 1024,
            file_mib=size / 2**20,
        )


if __name__ == "__main__":
    main()
