"""Every benchmark from one command (`make bench`), with one JSON summary of all their figures.

    .venv/bin/python bench/run.py [--size quick|national] [--only search,http] [--database URL] [--out FILE]

Runs each script of bench/ in turn (bench/outcomes.py too, once it exists) with
`--size`, `--summary` and `--database` (a script not built on bench/common.py is run
without them, and only its exit status is summarised), each on a database of its own named after
the one given (`bench` gives bench_search, bench_http, ...: each is dropped and
created afresh). Their tables print as they run; the figures (or the failures) of
all of them go to one JSON file, bench/results/summary.json unless --out says
otherwise, and the tables as printed beside it (summary.txt). The exit status
is 1 when any benchmark failed: its figures are then absent, its failures are in
the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_DATABASE, ROOT, SIZES
from sqlalchemy.engine import make_url

# name, script, what it measures; a script that does not exist yet is listed as missing, not failed.
BENCHMARKS = (
    ("search", "search.py", "the search service and the page as shown, vs the floor and a naive baseline"),
    ("http", "http_load.py", "gunicorn under load: the /search page and the API, dense and sparse places"),
    ("import", "import.py", "the CSV import and a re-import, vs a bare COPY and the schema floor"),
    ("export", "export.py", "the bulk export in CSV, HSDS and FHIR"),
    ("paperwork", "paperwork.py", "the admin queue's pages and the NPPES import"),
    ("outcomes", "outcomes.py", "outcomes"),
)


def database_for(base: str, name: str) -> str:
    url = make_url(base)
    return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="quick")
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(name for name, *_ in BENCHMARKS))
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help="PostgreSQL URL whose name each benchmark's own database extends (NAME_search, NAME_http, ...)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "summary.json")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else [name for name, *_ in BENCHMARKS]
    unknown = set(chosen) - {name for name, *_ in BENCHMARKS}
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")

    summary = {
        "size": args.size,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
        "commit": commit(),
        "benchmarks": {},
    }
    started = time.monotonic()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tables = args.out.with_suffix(".txt")
    with tempfile.TemporaryDirectory(prefix="bench-summary-") as folder, tables.open("w") as log:

        def say(text: str) -> None:
            print(text, flush=True)
            log.write(text + "\n")

        for name, script, what in BENCHMARKS:
            if name not in chosen:
                continue
            path = ROOT / "bench" / script
            if not path.exists():
                summary["benchmarks"][name] = {"status": "missing", "script": f"bench/{script}"}
                continue
            part = Path(folder) / f"{name}.json"
            database = database_for(args.database, name)
            command = [sys.executable, str(path), "--size", args.size, "--database", database, "--summary", str(part)]
            shown = f"bench/{script} --size {args.size} --database {make_url(database)!r}"
            if "from common import" not in path.read_text():
                # Not built on bench/common.py (yet): run as it is; its exit status is all the summary gets.
                command, shown = [sys.executable, str(path)], f"bench/{script}"
            say(f"\n=== {name}: {what}\n=== {shown}")
            t = time.monotonic()
            status = tee(command, log)
            seconds = time.monotonic() - t
            result = json.loads(part.read_text()) if part.exists() else {}
            summarised = len(command) > 2
            result.update(
                status="ok" if status == 0 and (result.get("status") == "ok" or not summarised) else "failed",
                exit_status=status,
                seconds=round(seconds, 1),
                command=shown,
            )
            summary["benchmarks"][name] = result
        summary["seconds"] = round(time.monotonic() - started, 1)
        summary["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        args.out.write_text(json.dumps(summary, indent=2, default=str) + "\n")
        say(f"\n=== {args.size} size, {summary['seconds']:.0f} s in all")
        for name, result in summary["benchmarks"].items():
            note = ""
            if result["status"] == "failed":
                count = (result.get("failures") or {}).get("count")
                note = f"{count:,} failures" if count else f"exit status {result['exit_status']}"
            elif result["status"] == "missing":
                note = f"{result['script']} does not exist yet"
            say(f"  {name:10} {result['status']:8} {result.get('seconds', 0):7.0f} s  {note}")
        say(f"summary: {args.out}\ntables: {tables}")
    if any(result["status"] == "failed" for result in summary["benchmarks"].values()):
        raise SystemExit(1)


def tee(command: list[str], log) -> int:
    """Run the command, its output (stdout and stderr, as they come) to the terminal and the log."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
    return child.returncode


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


if __name__ == "__main__":
    main()
