"""Messages flood no one (issue 22, item 7): posting on a thread is limited per person
and booking, with the form shown again saying when to send; the other side gets at most
one notice per thread every ten minutes, counting the messages that wait, under a fixed
subject that carries no name anyone chose."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from directory import outbox as outbox_rows
from directory.bookings import services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import BookingMessage, OutboxJob, Role

from .booking_people import free_on, open_therapist
from .conftest import login, post_form

SPAM_NAME = "WIN A FREE CRUISE at spam.example"


@pytest.fixture
def rita(factory):
    return open_therapist(factory)


@pytest.fixture
def cleo(make_user):
    user = make_user(Role.CLIENT, "cleo@example.com")
    user.name = SPAM_NAME
    db.session.commit()
    return user


@pytest.fixture
def booking(rita, cleo):
    return services.request_booking(cleo, rita, free_on(rita), 60, services.IntakeData())


def post(c, booking_id: int, body: str):
    page = f"/account/bookings/{booking_id}"
    return post_form(c, f"{page}/messages", {"body": body}, form_page=page)


def notices(outbox, to: str):
    return [m for m in outbox() if m["To"] == to and "about your booking on" in m["Subject"]]


def let_ten_minutes_pass():
    db.session.execute(update(OutboxJob).where(OutboxJob.status == "pending").values(next_attempt_at=outbox_rows.now()))
    db.session.commit()


def test_thirty_messages_at_once_give_five_messages_and_one_notice(app, rita, cleo, booking, outbox):
    c = app.test_client()
    login(c, cleo.email)
    answers = [post(c, booking.id, f"Message number {n}") for n in range(30)]
    assert [a.status_code for a in answers[:5]] == [302] * 5
    refused = answers[5:]
    assert {a.status_code for a in refused} == {429}
    page = refused[-1].get_data(as_text=True)
    assert "You have sent 5 messages on this booking in a minute: wait" in page
    assert "Message number 29</textarea>" in page  # the text is kept in the form shown again
    assert 'aria-invalid="true"' in page or "field-error" in page
    db.session.expire_all()
    assert len(db.session.scalars(select(BookingMessage)).all()) == 5

    [notice] = notices(outbox, rita.user.email)
    local = booking.starts_at.astimezone(rita.zone)
    assert notice["Subject"] == f"New message about your booking on {local:%B} {local.day}"
    text = plain_text(notice)
    assert "A new message waits for you from your client" in text
    assert SPAM_NAME not in notice.as_string() and "Message number" not in notice.as_string()

    # The four that came after wait in one notice, due ten minutes after the first went.
    [waiting] = db.session.scalars(select(OutboxJob).where(OutboxJob.status == "pending")).all()
    first = db.session.scalar(select(OutboxJob).where(OutboxJob.status == "sent", OutboxJob.topic == waiting.topic))
    assert waiting.next_attempt_at - first.claimed_at == timedelta(minutes=10)
    assert outbox_module_deliver() == 0  # not yet due: nothing leaves
    let_ten_minutes_pass()
    assert outbox_module_deliver() == 1
    latest = notices(outbox, rita.user.email)[0]
    assert latest["Subject"] == f"New messages about your booking on {local:%B} {local.day}"
    assert "4 new messages wait for you from your client" in plain_text(latest)
    assert len(notices(outbox, rita.user.email)) == 2


def outbox_module_deliver() -> int:
    return outbox_rows.deliver_all_due().sent


def test_the_limit_is_per_person_and_thread(app, rita, cleo, booking, factory, outbox):
    c = app.test_client()
    login(c, cleo.email)
    for n in range(5):
        assert post(c, booking.id, f"Question {n}").status_code == 302
    assert post(c, booking.id, "One more").status_code == 429
    other = services.request_booking(cleo, rita, free_on(rita, day_index=1), 60, services.IntakeData())
    assert post(c, other.id, "About the other visit").status_code == 302  # another thread
    t = app.test_client()
    login(t, rita.user.email)
    assert post(t, booking.id, "Happy to help").status_code == 302  # the other side of this thread
    [to_client] = notices(outbox, cleo.email)
    assert "from your therapist" in plain_text(to_client)


def test_a_reply_counts_only_what_came_after_it(app, rita, cleo, booking, outbox):
    c, t = app.test_client(), app.test_client()
    login(c, cleo.email)
    login(t, rita.user.email)
    assert post(c, booking.id, "First").status_code == 302  # notice 1 to Rita, at once
    assert post(c, booking.id, "Second").status_code == 302  # folded: due in ten minutes
    assert post(t, booking.id, "Read both, thanks").status_code == 302  # Rita has answered meanwhile
    assert post(c, booking.id, "Third").status_code == 302
    let_ten_minutes_pass()
    outbox_module_deliver()
    latest = notices(outbox, rita.user.email)[0]
    assert "A new message waits" in plain_text(latest)  # only "Third": Rita read the rest


def test_a_message_that_rolls_back_sends_no_notice(app, ctx, rita, cleo, booking, outbox):
    db.session.add(BookingMessage(booking_id=booking.id, author_id=cleo.id, side="client", body="draft"))
    from directory import notifications

    notifications.booking_message(booking, "client")
    db.session.rollback()
    assert db.session.scalars(select(OutboxJob).where(OutboxJob.topic.is_not(None))).all() == []
    assert notices(outbox, rita.user.email) == []
