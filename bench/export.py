"""Bulk export at national scale: 400,000 therapists on PostgreSQL.

Loads the benchmark set (bench/dataset.py, with weekday hours for everyone) into
its own database, then runs `flask therapists export` once per format as a
separate process and prints its wall time, rows per second and peak memory
(the child's maximum resident set size, from wait4).

    .venv/bin/python bench/export.py [--count 400000] [--formats csv,hsds,fhir] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from sqlalchemy import func, select, text

from directory import create_app
from directory.extensions import db
from directory.models import TherapistProfile, WeeklyHours

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/feeds_big"


def load(url: str, count: int) -> int:
    """The benchmark set with Monday-to-Friday hours; the number of listable therapists."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
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
        print(f"{total:,} therapists ({listable:,} listable), loaded in {seconds:.0f} s")
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


def run(fmt: str, url: str, out: Path) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one export in its own process."""
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    flask = str(Path(sys.executable).parent / "flask")
    command = [sys.executable, "-c", LAUNCHER, flask, "therapists", "export", "--format", fmt, "--out", str(out)]
    report = json.loads(subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True).stdout)
    if report["status"] != 0:
        raise SystemExit(f"export --format {fmt} failed:\n{report['errors']}")
    return report["seconds"], report["rss_kib"]  # KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400_000)
    parser.add_argument("--formats", default="csv,hsds,fhir")
    parser.add_argument("--url", default=os.environ.get("EXPORT_BENCH_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="reuse the database from the last run")
    args = parser.parse_args()
    if not args.keep:
        dataset.reset_database(args.url)
    rows = load(args.url, args.count)
    folder = Path(tempfile.mkdtemp(prefix="export-bench-"))
    print(f"{'format':<6} {'wall s':>8} {'rows/s':>9} {'peak RSS':>10} {'file':>9}")
    for fmt in args.formats.split(","):
        out = folder / f"directory.{fmt}"
        seconds, rss_kib = run(fmt, args.url, out)
        size = out.stat().st_size
        print(f"{fmt:<6} {seconds:8.1f} {rows / seconds:9,.0f} {rss_kib / 1024:7.0f} MiB {size / 2**20:6.0f} MiB")
        out.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
