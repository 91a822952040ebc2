"""Every mail the site sends: rendered from templates/email/, written to the outbox.

Each function renders one event's mail now (the words describe the event as it
happened) and writes its delivery as an outbox row (see jobs.py, outbox.py) in the
transaction of the writes that caused it: it leaves once they are committed, never
inside the request. Message notices are the exception: one per thread every
NOTICE_EVERY, rendered when it leaves, counting the messages that wait. Mail names people, times and
prices, never a client's health details (intakes). Links are built on PUBLIC_URL.

A template's first line is the subject; the rest is the body. A mail may also have an
HTML part, templates/email/<name>.html.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from celery import shared_task
from flask import current_app, render_template
from sqlalchemy import func, select

from .. import jobs, outbox
from ..extensions import db
from ..links import public_url
from ..models import Booking, BookingMessage, BookingStatus, CredentialStatus, License, User
from ..therapists.visibility import Audience, place_of
from ..vocabulary import CERTIFICATIONS
from . import calendar
from .delivery import DELIVER, Attachment, Letter


def confirm_email(user: User, token: str) -> None:
    _mail(user, "confirm_email", link=public_url("auth.confirm", token=token), html=True)


def password_reset(user: User, token: str) -> None:
    _mail(user, "password_reset", link=public_url("auth.reset_password", token=token), html=True)


def email_change(user: User, new_email: str, token: str | None) -> None:
    """To the new address: the link that makes the change, or (`token` None) word that
    the address already has an account, so the form tells the asker nothing."""
    letter = render(
        new_email,
        "email_change",
        name=user.name,
        taken=token is None,
        link=public_url("auth.change_email", token=token) if token else "",
        login=public_url("auth.login"),
    )
    jobs.enqueue(DELIVER, letter)


def email_changed(user: User, old_email: str) -> None:
    """To the address the account left, in case it was not its owner who moved it."""
    letter = render(
        old_email, "email_changed", name=user.name, new_email=user.email, reset=public_url("auth.forgot_password")
    )
    jobs.enqueue(DELIVER, letter)


def password_changed(user: User) -> None:
    _mail(user, "password_changed", reset=public_url("auth.forgot_password"))


def account_exists(user: User) -> None:
    """Someone signed up with an email that already has an account: tell its owner,
    rather than telling whoever filled in the form."""
    _mail(
        user,
        "account_exists",
        login=public_url("auth.login"),
        reset=public_url("auth.forgot_password"),
    )


def sign_in_failures(user: User | None) -> None:
    """Someone gave wrong passwords for this account, repeatedly: tell its owner (once a day at most)."""
    _mail(user, "sign_in_failures", reset=public_url("auth.forgot_password"))


def credential_decided(kind: str, credential) -> None:
    """An admin verified or rejected a license or certification."""
    template = "credential_verified" if credential.status == CredentialStatus.VERIFIED else "credential_rejected"
    if kind == "license":
        what = f"your license {credential.state} {credential.number}"
    else:
        what = f"your {CERTIFICATIONS.get(credential.slug, credential.slug).lower()}"
    _mail(
        credential.therapist.user,
        template,
        what=what,
        kind=kind,
        reason=credential.rejection_reason,
        link=public_url("practice.dashboard"),
    )


def license_expiring(license: License, days_left: int) -> None:
    _mail(
        license.therapist.user,
        "license_expiring",
        license=license,
        days_left=days_left,
        link=public_url("practice.credentials"),
    )


def booking_requested(booking: Booking) -> None:
    _about_booking(booking.therapist.user, "booking_requested_therapist", booking)
    _about_booking(booking.client, "booking_requested_client", booking)


def booking_decided(booking: Booking) -> None:
    """Accepted: both sides get the session as a calendar invitation (METHOD:REQUEST)."""
    accepted = booking.status == BookingStatus.CONFIRMED
    verb = "accepted" if accepted else "declined"
    method = "REQUEST" if accepted else None
    _about_booking(booking.client, "booking_decided_client", booking, verb=verb, invite=method)
    _about_booking(booking.therapist.user, "booking_decided_therapist", booking, verb=verb, invite=method)


def booking_cancelled(booking: Booking, *, tell_client: bool = True) -> None:
    """A session that was in calendars (it had been accepted) is withdrawn from them (METHOD:CANCEL)."""
    who = "the client" if booking.cancelled_by == "client" else booking.therapist.name
    method = "CANCEL" if booking.decided_at is not None else None
    for user in (booking.client if tell_client else None, booking.therapist.user):
        _about_booking(user, "booking_cancelled", booking, who=who, invite=method)


def booking_rescheduled(booking: Booking, old_when: str) -> None:
    """The client moved the session: a confirmed one is updated in calendars (a higher SEQUENCE)."""
    method = "REQUEST" if booking.status == BookingStatus.CONFIRMED else None
    for user in (booking.client, booking.therapist.user):
        _about_booking(user, "booking_rescheduled", booking, old_when=old_when, invite=method)


MESSAGE_NOTICE = "directory.notifications.message_notice"
NOTICE_EVERY = timedelta(minutes=10)


def booking_expired(booking: Booking) -> None:
    """Nobody answered the request before its time: both sides learn it lapsed."""
    for user in (booking.client, booking.therapist.user):
        _about_booking(user, "booking_expired", booking)


def booking_no_show(booking: Booking) -> None:
    """The therapist marked a confirmed visit missed: the client is told (and may answer)."""
    _about_booking(booking.client, "booking_no_show", booking)


def booking_message(booking: Booking, side: str) -> None:
    """A new message on the booking's thread (call it in the transaction that writes it):
    the other side is told, at most once per NOTICE_EVERY for the thread, how many new
    messages wait, never what they say nor who chose what name."""
    to_side = "therapist" if side == "client" else "client"
    topic = f"booking-messages:{booking.id}:{to_side}"
    jobs.enqueue_folded(MESSAGE_NOTICE, booking.id, to_side, topic=topic, every=NOTICE_EVERY)


@shared_task(name=MESSAGE_NOTICE)
def message_notice(booking_id: int, to_side: str) -> None:
    """The notice itself, counted when it leaves: the messages from the other side since the
    previous notice and since the recipient last wrote (what came before, they have seen)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        return
    to = booking.therapist.user if to_side == "therapist" else booking.client
    from_side = "client" if to_side == "therapist" else "therapist"
    job = outbox.running()
    floors = [
        outbox.previous_claim(job.topic, job.id) if job and job.topic else None,
        db.session.scalar(
            select(func.max(BookingMessage.created_at)).where(
                BookingMessage.booking_id == booking_id, BookingMessage.side == to_side
            )
        ),
    ]
    new = select(func.count()).where(BookingMessage.booking_id == booking_id, BookingMessage.side == from_side)
    for floor in floors:
        if floor is not None:
            new = new.where(BookingMessage.created_at > floor)
    count = db.session.scalar(new) or 0
    if to is None or count == 0:
        return
    local = booking.starts_at.astimezone(booking.therapist.zone)
    letter = render(
        to.email,
        "booking_message",
        name=to.name,
        count=count,
        from_side=from_side,
        day=f"{local:%B} {local.day}",
        when=when_of(booking),
        every=int(NOTICE_EVERY.total_seconds() // 60),
        link=public_url("bookings.detail", booking_id=booking.id) + "#messages",
    )
    current_app.extensions["mailer"].send(
        letter["to"], letter["subject"], letter["text"], html=None, key=outbox.running_key()
    )


def booking_reminder(booking: Booking) -> None:
    """The day before: both sides, with where to go and who to call."""
    _about_booking(booking.client, "booking_reminder_client", booking)
    _about_booking(booking.therapist.user, "booking_reminder_therapist", booking)


def review_prompt(booking: Booking) -> None:
    _about_booking(
        booking.client,
        "review_prompt",
        booking,
        review_link=public_url("bookings.detail", booking_id=booking.id) + "#review",
    )


def when_of(booking: Booking) -> str:
    """ "Wednesday, December 2 at 10:00 AM (CST)", in the therapist's time zone."""
    local = booking.starts_at.astimezone(booking.therapist.zone)
    return f"{local:%A, %B} {local.day} at {local:%I:%M %p} ({local.tzname()})".replace(" 0", " ")


def _where(booking: Booking) -> dict:
    """Where to go and who to call, as far as the client may be told yet."""
    t = booking.therapist
    place = place_of(t, Audience.CLIENT, booking)
    settings = t.booking_settings
    phone = settings.phone if settings and booking.status == BookingStatus.CONFIRMED else ""
    return {
        "address": place.one_line,
        "address_withheld": place.withheld,
        "map_link": place.map_link or "",
        "phone": phone,
    }


def _about_booking(user: User | None, template: str, booking: Booking, invite: str | None = None, **context) -> None:
    """Names, time, price and place only: never the intake, never a message's text."""
    if user is None:
        return
    link = public_url("bookings.detail", booking_id=booking.id)
    where = _where(booking)
    attachments = []
    if invite:
        attachments.append(_invitation(booking, user, invite, link, where["address"]))
    _mail(
        user,
        template,
        attachments=attachments,
        therapist_name=booking.therapist.name,
        client_name=booking.client.name if booking.client else "A former client",
        minutes=booking.minutes,
        price=booking.price_amount,
        when=when_of(booking),
        therapist_message=booking.therapist_message,
        cancel_reason=booking.cancel_reason,
        link=link,
        **where,
        **context,
    )


def _invitation(booking: Booking, user: User, method: str, link: str, location: str) -> Attachment:
    for_client = booking.client is not None and user.id == booking.client.id
    other = booking.therapist.name if for_client else (booking.client.name if booking.client else "a former client")
    site = parseaddr(current_app.config.get("MAIL_FROM", ""))[1] or "no-reply@truetouch.example"
    # Each copy carries its reader's own address; the other party's stays private (the site's stands in).
    text = calendar.invitation(
        booking,
        method=method,
        summary=f"Massage session with {other}",
        location=location,
        link=link,
        organizer=site if for_client else user.email,
        sent_by=None if for_client else site,
        attendee=user.email if for_client else site,
        host=site_host(),
    )
    name = "cancel.ics" if method == "CANCEL" else "invite.ics"
    return {"filename": name, "content_type": f"text/calendar; method={method}", "text": text}


def site_host() -> str:
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "truetouch.example"


def _mail(user: User | None, template: str, *, html: bool = False, attachments=(), **context) -> None:
    if user is None:  # e.g. a client who deleted their account
        return
    letter = render(user.email, template, name=user.name, html=html, **context)
    if attachments:
        letter["attachments"] = list(attachments)
    jobs.enqueue(DELIVER, letter)


def render(to: str, template: str, *, html: bool = False, **context) -> Letter:
    subject, _, text = render_template(f"email/{template}.txt", **context).lstrip().partition("\n")
    text = re.sub(r"\n{3,}", "\n\n", text.strip()) + "\n"
    page = render_template(f"email/{template}.html", subject=subject.strip(), **context) if html else None
    return Letter(to=to, subject=subject.strip(), text=text, html=page)
