"""The transactional outbox: every mail and job is a row of outbox_jobs, written in the
same transaction as the change it announces, so it is committed with that change or not
at all. Whoever delivers (the Celery worker, the web process's own worker thread, a
command) goes through this module:

    pending --claim--> sending --ran--> sent
                               --raised--> pending again, due after a backoff of about
                                           1, 2, 4... seconds (at most ten minutes);
                                           failed after MAX_ATTEMPTS, shown to admins

A claim is one UPDATE ... WHERE the row is still due (on PostgreSQL its candidates are
picked FOR UPDATE SKIP LOCKED, so two workers never wait on each other): of two workers
racing for a row, one changes it and runs it, the other finds nothing. A row held by a
worker that died is due again once its claim lapses (LEASE), or at once when that worker
was a process of this machine that is gone. Its idempotency key (unique) goes with it to
the job (running_key()): the mail it sends carries it as its Message-ID, and the outbox
folder refuses a second copy, so a delivery tried again never sends twice.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import clock
from .extensions import db
from .models import OutboxJob

MAX_ATTEMPTS = 12  # about 37 minutes of trying, then an admin is shown the job
BACKOFF_MAX = 600.0  # seconds between two attempts, at most
LEASE = timedelta(minutes=5)  # a claim older than this belongs to a worker that died
LATE = timedelta(minutes=5)  # due longer ago than this and not sent: shown to admins
KEEP_SENT = timedelta(days=7)
BATCH = 50

OPEN = ("pending", "sending")


@dataclass(frozen=True)
class Running:
    id: int
    key: str
    topic: str | None


_running: ContextVar[Running | None] = ContextVar("outbox_running", default=None)


def running() -> Running | None:
    """The outbox row whose job is running in this thread, if any."""
    return _running.get()


def running_key() -> str | None:
    job = _running.get()
    return job.key if job else None


def now() -> datetime:
    return clock.now()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def add(
    session: Session,
    name: str,
    args: Sequence[Any],
    *,
    key: str | None = None,
    topic: str | None = None,
    due: datetime | None = None,
) -> int | None:
    """Write the job in the session's transaction; its id, or None when a job with this key exists."""
    at = now()
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(OutboxJob)
        .values(
            name=name,
            args=list(args),
            key=key or uuid.uuid4().hex,
            topic=topic,
            status="pending",
            attempts=0,
            next_attempt_at=due or at,
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxJob.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def add_folded(session: Session, name: str, args: Sequence[Any], *, topic: str, every: timedelta) -> int | None:
    """A notice about `topic`, at most one per `every`: while one waits unsent, later events
    fold into it (the job counts them when it runs); after one has gone, the next waits
    until `every` has passed since it. Two callers at once agree on one key, so one row."""
    latest_query = select(OutboxJob).where(OutboxJob.topic == topic).order_by(OutboxJob.id.desc()).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        latest_query = latest_query.with_for_update()  # a worker's claim of it waits for this commit
    latest = session.scalars(latest_query).first()
    if latest is not None and latest.status == "pending":
        return None
    due = now()
    if latest is not None:
        due = max(due, (latest.claimed_at or latest.created_at) + every)
    return add(session, name, args, key=f"{topic}:after:{latest.id if latest else 0}", topic=topic, due=due)


def previous_claim(topic: str, before_id: int) -> datetime | None:
    """When the notice before row `before_id` of this topic was taken to be sent."""
    return db.session.scalar(
        select(OutboxJob.claimed_at)
        .where(OutboxJob.topic == topic, OutboxJob.id < before_id, OutboxJob.status == "sent")
        .order_by(OutboxJob.id.desc())
        .limit(1)
    )


def _due(at: datetime):
    return and_(OutboxJob.status.in_(OPEN), OutboxJob.next_attempt_at <= at)


def claim(ids: Iterable[int] | None = None, limit: int = BATCH) -> list[int]:
    """Take up to `limit` due rows (of `ids`, when given) for this worker; the ids it won.

    Starts and commits a transaction of its own: on SQLite the UPDATE is its first
    statement, so it waits for the write lock instead of failing on a stale snapshot."""
    db.session.rollback()
    at = now()
    pick = select(OutboxJob.id).where(_due(at)).order_by(OutboxJob.next_attempt_at, OutboxJob.id).limit(limit)
    if ids is not None:
        pick = pick.where(OutboxJob.id.in_(list(ids)))
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(OutboxJob)
        .where(OutboxJob.id.in_(pick.scalar_subquery()), _due(at))
        .values(
            status="sending",
            attempts=OutboxJob.attempts + 1,
            claimed_by=worker_id(),
            claimed_at=at,
            next_attempt_at=at + LEASE,
        )
        .returning(OutboxJob.id)
        .execution_options(synchronize_session=False)
    )
    won = list(db.session.scalars(stmt))
    db.session.commit()
    return sorted(won)


@dataclass
class Round:
    sent: int = 0
    failed: int = 0
    retry_in: float | None = None  # seconds until the soonest retry this round scheduled


def deliver(ids: Iterable[int] | None = None, limit: int = BATCH) -> Round:
    """Claim due rows (of `ids`, when given) and run each; what happened."""
    result = Round()
    for job_id in claim(ids, limit):
        ok, delay = run(job_id)
        result.sent += ok
        result.failed += not ok
        if delay is not None:
            result.retry_in = delay if result.retry_in is None else min(result.retry_in, delay)
    return result


def deliver_all_due(limit: int = BATCH) -> Round:
    """Every due row, batch after batch (the worker thread, the beat job and `flask jobs deliver`)."""
    release_dead_claims()
    total = Round()
    while True:
        step = deliver(limit=limit)
        total.sent += step.sent
        total.failed += step.failed
        if step.retry_in is not None:
            total.retry_in = step.retry_in if total.retry_in is None else min(total.retry_in, step.retry_in)
        if step.sent + step.failed < limit:
            return total


def run(job_id: int) -> tuple[bool, float | None]:
    """Run one claimed row's job: whether it succeeded, and when it failed, the seconds
    until its next try (None once it has failed for good)."""
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        return False, None
    name, args, running_job = job.name, list(job.args), Running(job.id, job.key, job.topic)
    db.session.commit()
    task = current_app.extensions["celery"].tasks.get(name)
    token = _running.set(running_job)
    try:
        if task is None:
            raise LookupError(f"no job is named {name}")
        task.run(*args)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        return False, _failed(job_id, name, exc)
    finally:
        _running.reset(token)
    db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.status == "sending", OutboxJob.claimed_by == worker_id())
        .values(status="sent", sent_at=now(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True, None


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts` + 1: about 1, 2, 4... with jitter, at most BACKOFF_MAX."""
    return min(BACKOFF_MAX, 2.0 ** max(attempts - 1, 0) * random.uniform(1.0, 1.25))  # noqa: S311 retry jitter, no secret


def describe(exc: BaseException) -> str:
    """What went wrong, for admins and logs: the error's kind (and an SMTP code), never its text,
    which may quote an address or a message."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__} {code}" if isinstance(code, int) else type(exc).__name__


def _failed(job_id: int, name: str, exc: Exception) -> float | None:
    attempts = db.session.scalar(select(OutboxJob.attempts).where(OutboxJob.id == job_id)) or MAX_ATTEMPTS
    error = describe(exc)
    values: dict[str, Any] = {"last_error": error, "claimed_by": None}
    delay = None
    if attempts >= MAX_ATTEMPTS:
        values["status"] = "failed"
        current_app.logger.error(
            "outbox job %s (%s) failed for good after %d attempts: %s", job_id, name, attempts, error
        )
    else:
        delay = backoff(attempts)
        values.update(status="pending", next_attempt_at=now() + timedelta(seconds=delay))
        current_app.logger.warning(
            "outbox job %s (%s) failed on attempt %d: %s; retry in %.0fs", job_id, name, attempts, error, delay
        )
    db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.status == "sending")
        .values(values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return delay


def release_dead_claims() -> int:
    """Rows claimed by a process of this machine that no longer runs are due at once."""
    host = socket.gethostname()
    held = db.session.execute(
        select(OutboxJob.id, OutboxJob.claimed_by).where(
            OutboxJob.status == "sending", OutboxJob.claimed_by.like(f"{host}:%")
        )
    ).all()
    released = 0
    for job_id, claimed_by in held:
        pid = claimed_by.rpartition(":")[2]
        if pid.isdigit() and not _alive(int(pid)):
            result = db.session.execute(
                update(OutboxJob)
                .where(OutboxJob.id == job_id, OutboxJob.status == "sending", OutboxJob.claimed_by == claimed_by)
                .values(next_attempt_at=now())
                .execution_options(synchronize_session=False)
            )
            released += cast(CursorResult, result).rowcount
    db.session.commit()
    return released


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def next_due() -> datetime | None:
    """When the soonest open row is due (or its claim lapses)."""
    return db.session.scalar(select(func.min(OutboxJob.next_attempt_at)).where(OutboxJob.status.in_(OPEN)))


def prune() -> int:
    """Sent rows older than KEEP_SENT are removed: their letters named people."""
    result = db.session.execute(
        delete(OutboxJob).where(OutboxJob.status == "sent", OutboxJob.sent_at < now() - KEEP_SENT)
    )
    db.session.commit()
    return cast(CursorResult, result).rowcount


def needing_attention(limit: int = 200) -> list[OutboxJob]:
    """Failed rows, rows being retried, and rows left undelivered for longer than LATE
    (no worker is running) or held by a claim that lapsed: newest first."""
    at = now()
    return list(
        db.session.scalars(
            select(OutboxJob)
            .where(
                or_(
                    OutboxJob.status == "failed",
                    and_(OutboxJob.status.in_(OPEN), OutboxJob.attempts > 0, OutboxJob.last_error.is_not(None)),
                    and_(OutboxJob.status == "pending", OutboxJob.next_attempt_at < at - LATE),
                    and_(OutboxJob.status == "sending", OutboxJob.next_attempt_at < at),
                )
            )
            .order_by(OutboxJob.id.desc())
            .limit(limit)
        )
    )


def retry(job_id: int) -> bool:
    """An admin asks for another round of attempts, due now; False when the row is not
    failed or waiting (sent meanwhile, or being sent right now)."""
    at = now()
    result = db.session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.id == job_id,
            or_(
                OutboxJob.status.in_(("failed", "pending")),
                and_(OutboxJob.status == "sending", OutboxJob.next_attempt_at < at),
            ),
        )
        .values(status="pending", attempts=0, next_attempt_at=at, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount == 1
