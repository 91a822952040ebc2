"""Booking emails to both sides. They name the time, never the client's health details."""

from flask import current_app, url_for


def _when(booking) -> str:
    local = booking.starts_at
    local = local.astimezone(booking.therapist.zone)
    return f"{local:%A, %B} {local.day} at {local:%I:%M %p} ({local.tzname()})".replace(" 0", " ")


def _send(user, subject, body, booking) -> None:
    if user is None:
        return
    link = url_for("bookings.detail", booking_id=booking.id, _external=True)
    current_app.extensions["mailer"].send(user.email, subject, f"Hello {user.name},\n\n{body}\n\n{link}\n")


def requested(booking) -> None:
    _send(
        booking.therapist.user,
        "New booking request",
        f"{booking.client.name} asks for a {booking.minutes}-minute session on {_when(booking)}. "
        "Please accept or decline it.",
        booking,
    )
    _send(
        booking.client,
        "Your booking request was sent",
        f"You asked {booking.therapist.name} for a {booking.minutes}-minute session on {_when(booking)} "
        f"at ${booking.price_amount}. We will tell you when they answer.",
        booking,
    )


def decided(booking) -> None:
    verb = "accepted" if booking.status.value == "confirmed" else "declined"
    message = f"\n\nTheir message: {booking.therapist_message}" if booking.therapist_message else ""
    _send(
        booking.client,
        f"Your booking was {verb}",
        f"{booking.therapist.name} {verb} your session on {_when(booking)}.{message}",
        booking,
    )
    _send(booking.therapist.user, f"You {verb} a booking", f"You {verb} the session on {_when(booking)}.", booking)


def cancelled(booking) -> None:
    who = "the client" if booking.cancelled_by == "client" else booking.therapist.name
    body = f"The session on {_when(booking)} was cancelled by {who}.\n\nReason: {booking.cancel_reason}"
    _send(booking.client, "A booking was cancelled", body, booking)
    _send(booking.therapist.user, "A booking was cancelled", body, booking)
