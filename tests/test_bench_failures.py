"""A benchmark reports only successful work: the failure check of bench/common.py, and a tiny
bench/http_load.py run against a live gunicorn whose fair-use limit refuses the load.

These run the benchmark machinery, never a benchmark: no figure is asserted on."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402 (bench/ is not a package)


def make_run(tmp_path: Path) -> common.Run:
    return common.Run("tiny", argparse.Namespace(size="quick", summary=tmp_path / "s.json", database="sqlite://"))


def test_failures_print_the_count_the_codes_and_no_figure(tmp_path, capsys):
    run = make_run(tmp_path)
    run.record("dense", requests_per_s=1537.5)
    for _ in range(3):
        run.failures.add("HTTP 429", "/api/v1/search?location=10001: too_many_requests")
    run.failures.add("HTTP 500")

    with pytest.raises(SystemExit) as stopped:
        run.finish()

    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert "FAILED: tiny: 4 failed" in err
    assert "3  HTTP 429" in err and "1  HTTP 500" in err
    assert "e.g. HTTP 429: /api/v1/search?location=10001: too_many_requests" in err
    assert "1537" not in err + capsys.readouterr().out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["status"] == "failed"
    assert summary["figures"] == {}
    assert summary["failures"]["by_kind"] == {"HTTP 429": 3, "HTTP 500": 1}


def test_a_run_without_failures_writes_its_figures(tmp_path):
    run = make_run(tmp_path)
    run.record("dense", requests_per_s=149.0, p95_ms=73.0)

    run.finish()

    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["status"] == "ok"
    assert summary["figures"] == {"dense": {"requests_per_s": 149.0, "p95_ms": 73.0}}
    assert summary["failures"]["count"] == 0


def test_a_crash_is_a_failure_and_drops_the_figures_so_far(tmp_path, capsys):
    run = make_run(tmp_path)

    def body(run):
        run.record("sqlite", p50_ms=2.0)
        raise RuntimeError("the database went away")

    with pytest.raises(SystemExit) as stopped:
        run.main(body)

    assert stopped.value.code == 1
    assert "RuntimeError: the database went away" in capsys.readouterr().err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["status"], summary["figures"]) == ("failed", {})


def test_the_size_fills_only_the_options_left_unset():
    args = argparse.Namespace(size="quick", count=None, runs=7)
    common.sized(args, {"quick": {"count": 100, "runs": 20}, "national": {"count": 400_000, "runs": 60}})
    assert (args.count, args.runs) == (100, 7)


def test_http_load_against_a_server_that_refuses_prints_failures_and_no_throughput(tmp_path):
    """The issue's run: every API request a 429 from the fair-use limit. Here the limit is set
    low on purpose (BENCH_RATE_LIMIT); the run must say so and print no requests/s."""
    summary = tmp_path / "summary.json"
    env = {**os.environ, "BENCH_RATE_LIMIT": "1 per hour"}
    env.pop("BENCH_DATABASE_URL", None)
    command = [sys.executable, str(ROOT / "bench" / "http_load.py"), "--database", f"sqlite:///{tmp_path}/load.db"]
    command += ["--count", "300", "--seconds", "1", "--clients", "2", "--service-requests", "1", "--workers", "1"]
    command += ["--summary", str(summary)]

    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED: http_load (warm-up)" in done.stderr
    assert "HTTP 429" in done.stderr
    assert "No figure is printed" in done.stderr
    assert "requests/s" not in done.stdout + done.stderr
    assert "throughput" not in done.stdout.lower()
    report = json.loads(summary.read_text())
    assert report["status"] == "failed"
    assert report["figures"] == {}
    assert report["failures"]["by_kind"]["HTTP 429"] >= 1
