"""Side effects after the commit: jobs on a Celery queue, or in this process after the response.

With REDIS_URL set, a job is a Celery task sent through Redis and run by `make worker`
(which also runs the beat schedule). Without it (`make run`, most tests) the same task runs
in this process: after the response has been sent when a request asked for it, at once in
a command or a worker.

A job asked for while the session holds writes not yet committed waits for their commit,
and is dropped when they roll back: nothing is mailed about a change that did not happen.
A job asked for after the commit (a view calling a notification once its service has
committed) is handed off straight away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

WAITING = "jobs_waiting_for_commit"  # on session.info
WROTE = "jobs_session_wrote"  # on session.info: flushed writes not yet committed
AFTER_RESPONSE = "_jobs_after_response"  # on flask.g


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
        beat_schedule=beat_schedule,
        beat_schedule_filename=str(app.config.get("BEAT_SCHEDULE_FILE") or f"{app.instance_path}/celerybeat-schedule"),
    )
    app.extensions["celery"] = celery
    app.extensions["jobs_queued"] = bool(redis_url)
    app.after_request(_run_after_response)
    return celery


def install(session) -> None:
    """Hold jobs until the commit of the writes that asked for them (create_app passes db.session)."""
    for name, listener in (
        ("after_flush", _note_writes),
        ("after_commit", _hand_off_waiting),
        ("after_transaction_end", _forget_uncommitted),
    ):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def enqueue(task_name: str, *args: Any) -> None:
    """Run the task `task_name` with JSON-serialisable `args` once the current writes are committed."""
    session = db.session()
    if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
        session.info.setdefault(WAITING, []).append((task_name, args))
    else:
        _hand_off(task_name, args)


def after_response(work: Callable[[], None]) -> None:
    """Run `work` in this process once the response has been sent (at once outside a request)."""
    if has_request_context():
        g.setdefault(AFTER_RESPONSE, []).append(work)
    else:
        _run_guarded(current_app._get_current_object(), work)  # type: ignore[attr-defined]


def _note_writes(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


def _hand_off_waiting(session: Session) -> None:
    waiting = session.info.pop(WAITING, [])
    session.info.pop(WROTE, None)
    for task_name, args in waiting:
        _hand_off(task_name, args)


def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit: its jobs go with it
        session.info.pop(WAITING, None)
        session.info.pop(WROTE, None)


def _hand_off(task_name: str, args: tuple) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    after_response(lambda: _dispatch(app, task_name, args))


def _dispatch(app: Flask, task_name: str, args: tuple) -> None:
    task = app.extensions["celery"].tasks[task_name]
    if app.extensions["jobs_queued"]:
        try:
            task.apply_async(args=args)
            return
        except Exception:  # the broker is down: do the work here rather than lose it
            app.logger.exception("job %s could not be queued; running it in this process", task_name)
    try:
        task(*args)  # one attempt: retries with backoff belong to the worker
    except Exception as exc:
        app.logger.error("job %s failed in this process: %s", task_name, type(exc).__name__)


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
