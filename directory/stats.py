"""Profile statistics: how often a profile was shown in search results and opened.

Counting never slows a page: the count is taken after the response has been sent.
With REDIS_URL set, each count is a HINCRBY on the day's hash in Redis, and the beat
job `flush` moves every waiting count into profile_stats in one upsert. Without
Redis, each request writes its own counts with one upsert.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, timedelta

import redis
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import clock, jobs
from .extensions import db
from .models import ProfileStat, TherapistProfile

KINDS = ("impressions", "views")
PREFIX = "directory:stats"
CHUNK = 5000  # rows per statement: within SQLite's and PostgreSQL's limits on bound parameters
KEEP_DAYS = 35  # a count no flush picked up in this long is past the dashboard's 30 days

# (therapist id, day) -> {"impressions": n, "views": n}
Counts = dict[tuple[int, date], Counter]


def count_shown(therapist_ids: Iterable[int]) -> None:
    """A page of search results showed these profiles."""
    _count("impressions", list(therapist_ids))


def count_opened(therapist_id: int) -> None:
    _count("views", [therapist_id])


def _count(kind: str, therapist_ids: list[int]) -> None:
    if not therapist_ids:
        return
    day = clock.today_in(UTC)
    jobs.after_response(lambda: _add(kind, therapist_ids, day))


def _add(kind: str, therapist_ids: list[int], day: date) -> None:
    client = _redis()
    if client is None:
        counts: Counts = {}
        for tid in therapist_ids:
            counts.setdefault((tid, day), Counter())[kind] += 1
        _upsert(counts)
        return
    key = f"{PREFIX}:day:{day.isoformat()}"
    pipe = client.pipeline(transaction=False)
    for tid in therapist_ids:
        pipe.hincrby(key, f"{kind}:{tid}", 1)
    pipe.expire(key, timedelta(days=KEEP_DAYS))
    pipe.execute()


def flush() -> int:
    """Move the counts waiting in Redis into profile_stats with one upsert; the number of rows.

    Each day's hash is renamed (atomically) to a batch of its own before it is read, so
    counts taken meanwhile wait for the next flush. A batch is deleted after the upsert
    has run and before it commits: a flush that fails before the upsert leaves its
    batches for the next one; none is ever counted twice. Safe to run at any time,
    twice, or from two workers at once (a lock lets one through).
    """
    client = _redis()
    if client is None:
        return 0
    lock = client.lock(f"{PREFIX}:flush-lock", timeout=300)
    if not lock.acquire(blocking=False):
        return 0
    try:
        for key in client.scan_iter(match=f"{PREFIX}:day:*"):
            day = key.rsplit(":", 1)[1]
            try:
                client.rename(key, f"{PREFIX}:batch:{day}:{uuid.uuid4().hex}")
            except redis.ResponseError:  # emptied since the scan
                continue
        batches = list(client.scan_iter(match=f"{PREFIX}:batch:*"))
        counts: Counts = {}
        for batch in batches:
            day = date.fromisoformat(batch.split(":")[3])
            for field, value in client.hgetall(batch).items():
                kind, tid = str(field).split(":")
                counts.setdefault((int(tid), day), Counter())[kind] += int(value)
        return _upsert(counts, before_commit=lambda: client.delete(*batches) if batches else None)
    finally:
        lock.release()


def _redis() -> redis.Redis | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("stats_redis", {})
    if url not in clients:  # bytes in, str out: keys and fields are ASCII
        clients[url] = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
    return clients[url]


def _upsert(counts: Counts, before_commit=None) -> int:
    """Add these counts to profile_stats in one transaction (one statement per CHUNK rows);
    profiles deleted meanwhile are skipped. The number of rows written."""
    if not counts:
        return 0
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    table = ProfileStat.__table__.c
    items = sorted(counts.items())
    written = 0
    with db.engine.begin() as conn:
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            wanted = {tid for (tid, _), _n in chunk}
            existing = set(conn.execute(select(TherapistProfile.id).where(TherapistProfile.id.in_(wanted))).scalars())
            rows = [
                {"therapist_id": tid, "day": day, **{kind: n[kind] for kind in KINDS}}
                for (tid, day), n in chunk
                if tid in existing
            ]
            if not rows:
                continue
            stmt = insert(ProfileStat).values(rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=["therapist_id", "day"],
                set_={kind: table[kind] + getattr(stmt.excluded, kind) for kind in KINDS},
            )
            conn.execute(stmt)
            written += len(rows)
        if before_commit is not None:
            before_commit()
    return written


def last_30_days(therapist_id: int) -> dict[str, int]:
    since = clock.today_in(UTC) - timedelta(days=29)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(ProfileStat.impressions), 0), func.coalesce(func.sum(ProfileStat.views), 0)
        ).where(ProfileStat.therapist_id == therapist_id, ProfileStat.day >= since)
    ).one()
    return {"impressions": int(row[0]), "views": int(row[1])}
