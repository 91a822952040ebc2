"""Every mail the site sends: rendered from templates/email/, queued after the commit.

Each function renders one event's mail now (the words describe the event as it
happened) and queues its delivery as a job (see jobs.py): it leaves once the writes
that caused it are committed, never inside the request. Mail names people, times and
prices, never a client's health details (intakes). Links are built on PUBLIC_URL.

A template's first line is the subject; the rest is the body. A mail may also have an
HTML part, templates/email/<name>.html.
"""

from __future__ import annotations

import re

from flask import render_template

from .. import jobs
from ..links import public_url
from ..models import Booking, BookingStatus, CredentialStatus, License, User
from ..vocabulary import CERTIFICATIONS
from .delivery import DELIVER, Letter


def confirm_email(user: User, token: str) -> None:
    _mail(user, "confirm_email", link=public_url("auth.confirm", token=token), html=True)


def password_reset(user: User, token: str) -> None:
    _mail(user, "password_reset", link=public_url("auth.reset_password", token=token), html=True)


def account_exists(user: User) -> None:
    """Someone signed up with an email that already has an account: tell its owner,
    rather than telling whoever filled in the form."""
    _mail(
        user,
        "account_exists",
        login=public_url("auth.login"),
        reset=public_url("auth.forgot_password"),
    )


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
    verb = "accepted" if booking.status == BookingStatus.CONFIRMED else "declined"
    _about_booking(booking.client, "booking_decided_client", booking, verb=verb)
    _about_booking(booking.therapist.user, "booking_decided_therapist", booking, verb=verb)


def booking_cancelled(booking: Booking, *, tell_client: bool = True) -> None:
    who = "the client" if booking.cancelled_by == "client" else booking.therapist.name
    for user in (booking.client if tell_client else None, booking.therapist.user):
        _about_booking(user, "booking_cancelled", booking, who=who)


def _about_booking(user: User | None, template: str, booking: Booking, **context) -> None:
    """Names, time and price only: never the intake."""
    local = booking.starts_at.astimezone(booking.therapist.zone)
    when = f"{local:%A, %B} {local.day} at {local:%I:%M %p} ({local.tzname()})".replace(" 0", " ")
    _mail(
        user,
        template,
        therapist_name=booking.therapist.name,
        client_name=booking.client.name if booking.client else "A former client",
        minutes=booking.minutes,
        price=booking.price_amount,
        when=when,
        therapist_message=booking.therapist_message,
        cancel_reason=booking.cancel_reason,
        link=public_url("bookings.detail", booking_id=booking.id),
        **context,
    )


def _mail(user: User | None, template: str, *, html: bool = False, **context) -> None:
    if user is None:  # e.g. a client who deleted their account
        return
    jobs.enqueue(DELIVER, render(user.email, template, name=user.name, html=html, **context))


def render(to: str, template: str, *, html: bool = False, **context) -> Letter:
    subject, _, text = render_template(f"email/{template}.txt", **context).lstrip().partition("\n")
    text = re.sub(r"\n{3,}", "\n\n", text.strip()) + "\n"
    page = render_template(f"email/{template}.html", subject=subject.strip(), **context) if html else None
    return Letter(to=to, subject=subject.strip(), text=text, html=page)
