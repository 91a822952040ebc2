"""Side effects after the commit: every mail and job is a row of the outbox (outbox.py),
written in the same transaction as the change it announces, then delivered once.

Who delivers:
- with REDIS_URL, the Celery worker (`make worker`): each commit that wrote rows sends it
  a prompt kick naming them, and beat drains whatever is due every few seconds, so a
  kick lost with a dying process or a broker that is down only delays the mail;
- without it (`make run`), a worker thread inside the web process, woken by each
  commit and polling every few seconds (rows left by a process that was killed go out
  once the next one serves a request);
- a command (no request) delivers its rows itself, right after its commit;
- the test configuration delivers a request's rows once its response is closed.

A job asked for while the session holds writes not yet committed joins their
transaction and is dropped with a rollback: nothing is mailed about a change that did
not happen. One asked for when the session holds no writes is committed at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task, shared_task
from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from . import outbox
from .extensions import db

WROTE = "jobs_session_wrote"  # on session.info: flushed writes not yet committed
NEW_ROWS = "jobs_new_outbox_rows"  # on session.info: outbox rows this transaction wrote
AFTER_RESPONSE = "_jobs_after_response"  # on flask.g
THREAD = "outbox_thread"  # on app.extensions

DELIVER_ROWS = "directory.jobs.deliver_rows"
DRAIN = "directory.jobs.drain_outbox"
DRAIN_EVERY = 10.0  # seconds: beat's sweep for rows whose kick was lost
POLL = 5.0  # seconds: the worker thread's sweep for rows other processes wrote
MAX_IDLE = 60.0  # seconds between the thread's tries while the database is away


def init_app(app: Flask, beat_schedule: dict[str, dict[str, Any]]) -> Celery:
    """The Celery app, configured from the Flask app's config; each task runs in an app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config.get("REDIS_URL")
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=redis_url or "memory://",
        result_backend=redis_url or None,
        task_ignore_result=True,
        task_default_queue=app.config.get("JOBS_QUEUE", "directory"),
        task_serializer="json",
        accept_content=["json"],
        # A worker killed mid-job leaves the job on the queue for the next one.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        beat_schedule={"drain-outbox": {"task": DRAIN, "schedule": DRAIN_EVERY}, **beat_schedule},
        beat_schedule_filename=str(app.config.get("BEAT_SCHEDULE_FILE") or f"{app.instance_path}/celerybeat-schedule"),
    )
    app.extensions["celery"] = celery
    app.extensions["jobs_queued"] = bool(redis_url)
    if not redis_url and app.config.get("OUTBOX_THREAD"):
        app.before_request(_start_thread)
    app.after_request(_run_after_response)
    return celery


def _start_thread() -> None:
    """Before each request: this process's delivery thread runs (started by the first request,
    which also sends what a process killed before it left behind)."""
    ensure_thread(current_app._get_current_object())  # type: ignore[attr-defined]


def install(session) -> None:
    """Kick the delivery of a transaction's rows once it commits (create_app passes db.session)."""
    for name, listener in (
        ("after_flush", _note_writes),
        ("do_orm_execute", _note_statement_writes),
        ("after_commit", _kick_new_rows),
        ("after_transaction_end", _forget_uncommitted),
    ):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def enqueue(task_name: str, *args: Any, key: str | None = None) -> None:
    """Run the task `task_name` with JSON-serialisable `args` once the current writes are
    committed, once: a second job with the same `key` (default: a new one) is not added."""
    _write(lambda session: outbox.add(session, task_name, args, key=key))


def enqueue_folded(task_name: str, *args: Any, topic: str, every: timedelta) -> None:
    """A notice about `topic`, at most one per `every`; later ones fold into the one waiting."""
    _write(lambda session: outbox.add_folded(session, task_name, args, topic=topic, every=every))


def _write(add: Callable[[Session], int | None]) -> None:
    session = db.session()
    holds_writes = session.info.get(WROTE) or session.new or session.dirty or session.deleted
    job_id = add(session)
    if job_id is not None:
        session.info.setdefault(NEW_ROWS, []).append(job_id)
    if not holds_writes:
        session.commit()


def after_response(work: Callable[[], None]) -> None:
    """Run `work` in this process once the response has been sent (at once outside a request).
    Only for what may be lost with the process (counters): mail and jobs go through enqueue."""
    if has_request_context():
        g.setdefault(AFTER_RESPONSE, []).append(work)
    else:
        _run_guarded(current_app._get_current_object(), work)  # type: ignore[attr-defined]


def _note_writes(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


def _note_statement_writes(state: ORMExecuteState) -> None:
    """An UPDATE, INSERT or DELETE run through the session (a compare-and-set) is a write too."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


def _kick_new_rows(session: Session) -> None:
    ids = session.info.pop(NEW_ROWS, [])
    session.info.pop(WROTE, None)
    if ids:
        kick(current_app._get_current_object(), ids)  # type: ignore[attr-defined]


def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit: its rows went with it
        session.info.pop(NEW_ROWS, None)
        session.info.pop(WROTE, None)


def kick(app: Flask, ids: list[int]) -> None:
    """Have these committed rows delivered soon (each is claimed once, whoever tries)."""
    if app.extensions["jobs_queued"]:
        try:
            app.extensions["celery"].tasks[DELIVER_ROWS].apply_async(args=[ids])
        except Exception as exc:  # the broker is down: beat's drain sends them once it is back
            app.logger.warning("outbox rows %s wait for the next drain: %s", ids, type(exc).__name__)
        return
    if not has_request_context():  # a command, or a job run here: deliver now, in a session of its own
        _run_guarded(app, lambda: _deliver(ids))
    elif app.config.get("OUTBOX_THREAD"):
        ensure_thread(app).wake()
    elif app.config.get("OUTBOX_AFTER_RESPONSE"):
        after_response(lambda: _deliver(ids))
    # else: the rows wait for `flask jobs deliver` or the next process's thread


def _deliver(ids: list[int]) -> None:
    outbox.deliver(ids)


@shared_task(name=DELIVER_ROWS)
def deliver_rows(ids: list[int]) -> int:
    """The worker's answer to a kick: deliver these rows; a failed one is tried again after its backoff."""
    result = outbox.deliver(ids)
    if result.retry_in is not None:
        deliver_rows.apply_async(args=[ids], countdown=result.retry_in + 0.5)
    return result.sent


@shared_task(name=DRAIN)
def drain_outbox() -> int:
    """Beat's sweep: every due row (kicks lost, retries due, claims of dead workers), and old sent rows pruned."""
    sent = outbox.deliver_all_due().sent
    outbox.prune()
    return sent


class DeliveryThread:
    """The web process's own outbox worker (no REDIS_URL): one per process, woken by each commit."""

    def __init__(self, app: Flask):
        self.app, self.pid = app, os.getpid()
        self._wake = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="outbox-delivery", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self.pid == os.getpid() and self._thread.is_alive() and not self._stopped

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        pruned_at = datetime.min.replace(tzinfo=UTC)
        failures = 0
        while not self._stopped:
            self._wake.clear()
            wait = POLL
            try:
                with self.app.app_context():
                    outbox.deliver_all_due()
                    if outbox.now() - pruned_at > timedelta(hours=1):
                        outbox.prune()
                        pruned_at = outbox.now()
                    due = outbox.next_due()
                failures = 0
                if due is not None:
                    wait = min(POLL, max(0.05, (due - outbox.now()).total_seconds()))
            except Exception as exc:  # the database is away: try again, less and less often
                failures += 1
                if failures == 1:
                    self.app.logger.exception("outbox delivery thread: a round failed")
                else:
                    self.app.logger.warning("outbox delivery thread: round %d failed: %s", failures, type(exc).__name__)
                wait = min(MAX_IDLE, POLL * 2.0 ** min(failures, 6))
            self._wake.wait(wait)


_thread_lock = threading.Lock()


def ensure_thread(app: Flask) -> DeliveryThread:
    """This process's delivery thread, started on first use (and again in a forked child)."""
    worker = app.extensions.get(THREAD)
    if worker is None or not worker.alive():
        with _thread_lock:
            worker = app.extensions.get(THREAD)
            if worker is None or not worker.alive():
                worker = app.extensions[THREAD] = DeliveryThread(app)
    return worker


def _run_after_response(response):
    work = g.pop(AFTER_RESPONSE, None)
    if work:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def run_all() -> None:
            for each in work:
                _run_guarded(app, each)

        response.call_on_close(run_all)
    return response


def _run_guarded(app: Flask, work: Callable[[], None]) -> None:
    with app.app_context():
        try:
            work()
        except Exception:  # one failed job never stops the others, nor the response
            app.logger.exception("after-response work failed")
