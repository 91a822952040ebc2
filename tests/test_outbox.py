"""The transactional outbox (issue 22, item 5): a mail is a row written in the transaction
of the change it announces, claimed by one worker, retried with backoff, sent once, and
shown to admins when it fails."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from directory import jobs, notifications, outbox
from directory.auth import tokens
from directory.extensions import db
from directory.models import AuditEntry, OutboxJob, Role, User
from directory.notifications.delivery import DELIVER

from .conftest import csrf_token, login, post_form


@pytest.fixture
def user(make_user):
    return make_user(Role.CLIENT, "tina@example.com")


@pytest.fixture
def outbox_dir_mail(app):
    """The mail the outbox folder received (the conftest's `outbox`, renamed beside the module)."""
    return lambda: app.extensions["mailer"].outbox()


def rows() -> list[OutboxJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def letter(n: int) -> dict:
    return {"to": f"person{n}@example.com", "subject": f"Letter {n}", "text": "Hello\n", "html": None}


def pending_letters(count: int) -> list[int]:
    """Rows written and committed with no kick: they wait for a worker."""
    ids = [outbox.add(db.session, DELIVER, [letter(n)]) for n in range(count)]
    db.session.commit()
    return [i for i in ids if i is not None]


def test_the_mail_row_is_written_in_the_transaction_of_its_change(ctx, user, outbox_dir_mail):
    user.name = "Tina Renamed"
    notifications.password_reset(user, tokens.make_reset_token(user))
    db.session.flush()
    assert db.session.scalar(select(func.count(OutboxJob.id))) == 1  # in this transaction, beside the change
    db.session.rollback()
    assert rows() == [] and outbox_dir_mail() == []  # the change rolled back: so did its mail

    user = db.session.scalar(select(User).where(User.email == "tina@example.com"))
    user.name = "Tina Renamed"
    notifications.password_reset(user, tokens.make_reset_token(user))
    db.session.commit()
    [row] = rows()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None and row.last_error is None
    [message] = outbox_dir_mail()
    assert message["To"] == user.email
    assert row.args[0]["subject"] == message["Subject"]


def test_the_same_key_twice_is_one_job(ctx, user, outbox_dir_mail):
    for _ in range(2):
        jobs.enqueue(DELIVER, letter(1), key="welcome:1")
    assert len(rows()) == 1 and len(outbox_dir_mail()) == 1


def test_a_failing_mail_is_retried_with_backoff_then_shown_to_admins_who_retry_it(
    app, client, user, make_user, outbox_dir_mail, monkeypatch
):
    real_send = app.extensions["mailer"].send

    def busy(*args, **kwargs):
        raise smtplib.SMTPDataError(451, b"4.3.0 Mailbox busy for tina@example.com")

    monkeypatch.setattr(app.extensions["mailer"], "send", busy)
    assert post_form(client, "/auth/forgot", {"email": user.email}).status_code == 302
    with app.app_context():
        [row] = rows()
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "SMTPDataError 451")
        waits = [(row.next_attempt_at - row.claimed_at).total_seconds()]
        for _ in range(outbox.MAX_ATTEMPTS - 1):  # time passes: each retry falls due
            db.session.execute(update(OutboxJob).values(next_attempt_at=outbox.now() - timedelta(seconds=1)))
            db.session.commit()
            outbox.deliver_all_due()
            [row] = rows()
            if row.status == "pending":
                waits.append((row.next_attempt_at - row.claimed_at).total_seconds())
        assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS
        for attempt, wait in enumerate(waits, start=1):  # about 1, 2, 4, ... seconds, at most ten minutes
            base = min(outbox.BACKOFF_MAX, 2.0 ** (attempt - 1))
            assert base - 0.5 <= wait <= min(outbox.BACKOFF_MAX, base * 1.25) + 0.5, (attempt, waits)
        assert waits[-1] > 500
        assert outbox.deliver_all_due().sent == 0  # failed for good: no worker takes it again
        job_id = row.id

    assert outbox_dir_mail() == []
    admin = make_user(Role.ADMIN, "ada@example.com")
    login(client, admin.email)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert f"Retry job {job_id} now" in page and "SMTPDataError 451" in page and "failed" in page
    assert "Reset your TrueTouch Directory password" in page  # the subject, never the text
    assert "/auth/reset/" not in page and "Mailbox busy" not in page

    refused = client.post(f"/admin/outbox/{job_id}/retry", data={})  # no CSRF token
    assert refused.status_code == 400
    with app.app_context():
        assert rows()[0].status == "failed"

    monkeypatch.setattr(app.extensions["mailer"], "send", real_send)
    token = csrf_token(client, "/admin/outbox")
    response = client.post(f"/admin/outbox/{job_id}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    [message] = outbox_dir_mail()
    assert message["To"] == user.email
    with app.app_context():
        assert rows()[0].status == "sent"
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.subject_type == "outbox_job")) == (
            "outbox_retry"
        )
    again = client.post(f"/admin/outbox/{job_id}/retry", data={"csrf_token": token})
    assert again.status_code == 303
    assert "needs no retry" in client.get("/admin/outbox").get_data(as_text=True)
    assert "Nothing needs attention" in client.get("/admin/outbox").get_data(as_text=True)


def test_only_admins_see_the_outbox_page(client, user):
    login(client, user.email)
    assert client.get("/admin/outbox").status_code == 403
    assert post_form(client, "/admin/outbox/1/retry", {}, form_page="/account/").status_code in (403, 404)


def test_rows_left_undelivered_are_shown_as_late(ctx, client, make_user):
    [job_id] = pending_letters(1)
    db.session.execute(update(OutboxJob).values(next_attempt_at=outbox.now() - outbox.LATE - timedelta(minutes=1)))
    db.session.commit()
    assert [j.id for j in outbox.needing_attention()] == [job_id]
    login(client, make_user(Role.ADMIN, "ada@example.com").email)
    assert "Mail to person0@example.com" in client.get("/admin/outbox").get_data(as_text=True)


def race(app, work, workers: int = 2):
    """Run `work` in `workers` threads at once, each with an app context (its own session)."""
    barrier, results, errors = threading.Barrier(workers), [], []

    def one():
        with app.app_context():
            try:
                barrier.wait(10)
                results.append(work())
            except Exception as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_two_workers_racing_for_the_same_rows_send_each_once(app, ctx, outbox_dir_mail, monkeypatch):
    ids = pending_letters(12)
    real_send, sent = app.extensions["mailer"].send, []

    def slow_send(*args, **kwargs):
        sent.append(args[0])
        time.sleep(0.02)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(app.extensions["mailer"], "send", slow_send)
    [first, second] = race(app, lambda: outbox.claim([ids[0]]))
    assert sorted([first, second]) == [[], [ids[0]]]  # one claim won, the other found nothing
    db.session.execute(update(OutboxJob).values(status="pending", next_attempt_at=outbox.now()))
    db.session.commit()

    results = race(app, outbox.deliver_all_due, workers=3)
    assert sum(r.sent for r in results) == 12
    assert sorted(sent) == sorted(f"person{n}@example.com" for n in range(12))  # each once
    assert len(outbox_dir_mail()) == 12 and {r.status for r in rows()} == {"sent"}


def test_a_delivery_tried_again_after_its_worker_died_is_one_mail(app, ctx, outbox_dir_mail):
    [job_id] = pending_letters(1)
    [job] = rows()
    # A worker of this machine sent the mail, then died before it could record it.
    app.extensions["mailer"].send("person0@example.com", "Letter 0", "Hello\n", key=job.key)
    dead = f"{socket.gethostname()}:99999999"
    db.session.execute(
        update(OutboxJob).values(
            status="sending", attempts=1, claimed_by=dead, next_attempt_at=outbox.now() + outbox.LEASE
        )
    )
    db.session.commit()
    assert outbox.deliver_all_due().sent == 1  # its claim is released at once, the job runs again
    [job] = rows()
    assert job.status == "sent" and job.attempts == 2
    assert len(outbox_dir_mail()) == 1  # the second delivery found the first: one mail


def test_the_worker_thread_delivers_what_no_response_did(app, ctx, outbox_dir_mail):
    pending_letters(3)
    worker = jobs.DeliveryThread(app)
    try:
        deadline = time.monotonic() + 20
        while len(outbox_dir_mail()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert len(outbox_dir_mail()) == 3 and {r.status for r in rows()} == {"sent"}


def test_the_beat_sweep_delivers_rows_whose_kick_was_lost(app, ctx, outbox_dir_mail):
    pending_letters(2)
    assert jobs.drain_outbox.run() == 2
    assert len(outbox_dir_mail()) == 2


def test_old_sent_rows_are_pruned(ctx, outbox_dir_mail):
    pending_letters(2)
    outbox.deliver_all_due()
    first = rows()[0].id
    db.session.execute(update(OutboxJob).where(OutboxJob.id == first).values(sent_at=outbox.now() - timedelta(days=8)))
    db.session.commit()
    assert outbox.prune() == 1 and len(rows()) == 1


def test_a_kick_lost_with_the_broker_leaves_the_row_for_the_sweep(app, ctx, user, outbox_dir_mail, monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is away")

    monkeypatch.setitem(app.extensions, "jobs_queued", True)
    monkeypatch.setattr(app.extensions["celery"].tasks[jobs.DELIVER_ROWS], "apply_async", broker_down)
    user.name = "Tina Renamed"
    notifications.password_changed(user)
    db.session.commit()
    assert [r.status for r in rows()] == ["pending"] and outbox_dir_mail() == []
    assert "wait for the next drain: ConnectionError" in caplog.text
    assert jobs.drain_outbox.run() == 1
    [message] = outbox_dir_mail()
    assert message["To"] == user.email


def test_the_deliver_command_sends_what_is_due(runner, ctx, outbox_dir_mail):
    pending_letters(3)
    result = runner.invoke(args=["jobs", "deliver"])
    assert result.exit_code == 0 and "3 delivered, 0 failed" in result.output
    assert len(outbox_dir_mail()) == 3


def test_a_mail_asked_for_after_a_compare_and_set_waits_for_its_commit(ctx, user, outbox_dir_mail):
    # A write made by a statement (no ORM object changed) still holds the mail back.
    db.session.execute(update(User).where(User.id == user.id, User.name == user.name).values(name="Tina CAS"))
    notifications.password_changed(user)
    assert outbox_dir_mail() == []
    db.session.rollback()
    assert rows() == [] and outbox_dir_mail() == []
