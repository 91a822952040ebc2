"""What every benchmark in bench/ shares: sizes, the database option, percentiles,
the limits its own server runs with, the failure check and the JSON summary.

A benchmark's figures are only ever those of successful work. Each script records
every failed request or row in a `Failures`; `Run.finish()` then either prints the
failures (how many, which status codes or errors, a few examples), writes them to
the summary and exits 1 with no figure, or writes the figures. A crash is a failure
too (`Run.main` catches it). `bench/run.py` (`make bench`) runs every script with
`--size` and `--summary` and merges the summaries into one JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = ("smoke", "quick", "national")
DEFAULT_DATABASE = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
# The public API's fair-use budget on a benchmark's own server: far above anything one run can send,
# so the limiter still runs (its cost is part of serving) but never refuses the load being measured.
# BENCH_RATE_LIMIT sets a lower one, to see a benchmark refuse to report refusals as speed.
UNLIMITED = "1000000000 per minute"
# Config for an app a benchmark builds in process: the same budget, and the per-route limits
# (sign-in, bookings) off: the benchmark is the only client, from one address.
APP_LIMITS = {"FAIR_API_RATE_LIMIT": UNLIMITED, "RATELIMIT_ENABLED": False}


def rate_limit() -> str:
    return os.environ.get("BENCH_RATE_LIMIT") or UNLIMITED


def percentile(samples, q: float) -> float:
    """The q-th percentile (nearest rank) of the samples; NaN when there are none."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def add_arguments(parser: argparse.ArgumentParser, database: str | None = DEFAULT_DATABASE, *aliases: str) -> None:
    """--size, --summary and (unless `database` is None) --database (also --pg-url and any `aliases`),
    which every script takes."""
    parser.add_argument(
        "--size",
        choices=SIZES,
        default="national",
        help="smoke: the machinery end to end, figures of no weight; quick: a minute or two; "
        "national: 400,000 therapists (default). Explicit options win.",
    )
    parser.add_argument("--summary", type=Path, help="write the figures (or the failures) to this JSON file")
    if database is not None:
        parser.add_argument(
            "--database",
            "--pg-url",
            *aliases,
            dest="database",
            default=database,
            help=f"SQLAlchemy URL of the database it builds (dropped and created afresh); default {database}",
        )


def sized(args: argparse.Namespace, presets: dict[str, dict[str, Any]]) -> argparse.Namespace:
    """Fill every option left unset (None) from the preset of --size."""
    for name, value in presets[args.size].items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    return args


class Failures:
    """Failed requests or rows: how many, by status code or error, with a few examples. Thread-safe."""

    EXAMPLES = 5

    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()
        self.examples: list[str] = []
        self._lock = threading.Lock()

    def add(self, kind: object, example: str = "", n: int = 1) -> None:
        with self._lock:
            self.by_kind[str(kind)] += n
            if len(self.examples) < self.EXAMPLES:
                self.examples.append(f"{kind}: {example}"[:500] if example else str(kind))

    @property
    def count(self) -> int:
        return sum(self.by_kind.values())

    def __bool__(self) -> bool:
        return self.count > 0

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "by_kind": dict(self.by_kind.most_common()), "examples": self.examples}


class Run:
    """One benchmark run: its figures by section, its failures, and how it ends."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        self.args = args
        self.figures: dict[str, Any] = {}
        self.failures = Failures()
        self.settings = {k: v for k, v in vars(args).items() if k not in ("summary",) and _plain(v)}
        if isinstance(self.settings.get("database"), str):
            self.settings["database"] = _without_password(self.settings["database"])

    def record(self, section: str, **figures: Any) -> None:
        rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
        self.figures.setdefault(section, {}).update(rounded)

    def check(self, what: str = "") -> None:
        """Stop here, printing the failures and no figure, if anything failed so far."""
        if not self.failures:
            return
        f = self.failures
        print(f"\nFAILED: {self.name}{f' ({what})' if what else ''}: {f.count:,} failed", file=sys.stderr)
        for kind, n in f.by_kind.most_common(10):
            print(f"  {n:>9,}  {kind}", file=sys.stderr)
        for example in f.examples:
            print(f"  e.g. {example}", file=sys.stderr)
        print("No figure is printed: a benchmark reports only successful work.", file=sys.stderr)
        self._write("failed")
        raise SystemExit(1)

    def finish(self) -> None:
        self.check()
        self._write("ok")

    def main(self, body: Callable[[Run], None]) -> None:
        """Run `body(self)`; an exception counts as a failure (printed, exit 1)."""
        try:
            body(self)
        except SystemExit:
            raise
        except Exception as exc:  # a crash is the benchmark's failure, reported as such
            traceback.print_exc()
            self.failures.add(type(exc).__name__, str(exc))
            self.figures = {}
            self.check("it stopped with an error")
        self.finish()

    def _write(self, status: str) -> None:
        path = self.args.summary
        if not path:
            return
        report = {
            "benchmark": self.name,
            "status": status,
            "settings": self.settings,
            "figures": self.figures if status == "ok" else {},
            "failures": self.failures.as_dict(),
            "load_average": os.getloadavg(),
        }
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(report, indent=2, default=str) + "\n")


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Path)


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: shown as given
        return url
