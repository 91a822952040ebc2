"""Profile statistics: how often a profile was shown in search results and opened.

Counting must not slow searches down, so a search only adds to an in-process
buffer; the buffer is written with one upsert per table after the response
has been sent (and at most every FLUSH_SECONDS).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date, timedelta

from flask import after_this_request, current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db
from .models import ProfileStat, TherapistProfile

_lock = threading.Lock()
_pending: dict[str, Counter] = {"impressions": Counter(), "views": Counter()}
_last_flush = [0.0]


def record(kind: str, therapist_ids) -> None:
    with _lock:
        _pending[kind].update(therapist_ids)


def count_shown(therapist_ids) -> None:
    """A page of search results showed these profiles; written after the response is sent."""
    if therapist_ids:
        record("impressions", therapist_ids)
        after_this_request(_after)


def count_opened(therapist_id: int) -> None:
    record("views", [therapist_id])
    after_this_request(_after)


def _after(response):
    after_response(response)
    return response


def flush_if_due(force: bool = False) -> None:
    seconds = current_app.config.get("STATS_FLUSH_SECONDS", 10)
    if not force and time.monotonic() - _last_flush[0] < seconds:
        return
    with _lock:
        batches = {k: c for k, c in _pending.items() if c}
        for k in batches:
            _pending[k] = Counter()
        _last_flush[0] = time.monotonic()
    if batches:
        _write(batches, date.today())


def _upsert(dialect: str):
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def _write(batches: dict[str, Counter], day: date) -> None:
    insert = _upsert(db.engine.dialect.name)
    wanted = set().union(*batches.values())
    with db.engine.connect() as conn:  # profiles deleted meanwhile: their counts no longer matter
        existing = set(conn.execute(select(TherapistProfile.id).where(TherapistProfile.id.in_(wanted))).scalars())
    for kind, counter in batches.items():
        counts = {tid: n for tid, n in counter.items() if tid in existing}
        if not counts:
            continue
        rows = [{"therapist_id": tid, "day": day, "impressions": 0, "views": 0, kind: n} for tid, n in counts.items()]
        stmt = insert(ProfileStat).values(rows)
        column = getattr(ProfileStat.__table__.c, kind)
        stmt = stmt.on_conflict_do_update(
            index_elements=["therapist_id", "day"], set_={kind: column + getattr(stmt.excluded, kind)}
        )
        try:
            with db.engine.begin() as conn:
                conn.execute(stmt)
        except Exception:  # counting must never break a page: note it and go on
            current_app.logger.exception("profile %s not written for %d profiles", kind, len(rows))


def after_response(response) -> None:
    """Flush once the response is on its way, never before."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def _flush():
        with app.app_context():
            flush_if_due()

    response.call_on_close(_flush)


def last_30_days(therapist_id: int) -> dict[str, int]:
    since = date.today() - timedelta(days=29)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(ProfileStat.impressions), 0), func.coalesce(func.sum(ProfileStat.views), 0)
        ).where(ProfileStat.therapist_id == therapist_id, ProfileStat.day >= since)
    ).one()
    return {"impressions": int(row[0]), "views": int(row[1])}


def discard_pending() -> None:
    """Forget unwritten counts (tests start each case clean)."""
    with _lock:
        for kind in _pending:
            _pending[kind] = Counter()
