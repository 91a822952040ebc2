"""Emails to therapists about their credentials."""

from flask import current_app, url_for

from ..vocabulary import CERTIFICATIONS


def _what(kind: str, credential) -> str:
    if kind == "license":
        return f"your license {credential.state} {credential.number}"
    return f"your {CERTIFICATIONS.get(credential.slug, credential.slug).lower()}"


def credential_decided(kind: str, credential) -> None:
    user = credential.therapist.user
    link = url_for("practice.dashboard", _external=True)
    if credential.status.value == "verified":
        subject = "Your credential is verified"
        body = f"Good news: an administrator verified {_what(kind, credential)}."
        if kind == "license":
            body += " Your profile now appears in the directory and in search results."
    else:
        subject = "Your credential was not verified"
        body = (
            f"An administrator could not verify {_what(kind, credential)}.\n\n"
            f"Reason: {credential.rejection_reason}\n\nYou can correct it and submit it again."
        )
    current_app.extensions["mailer"].send(user.email, subject, f"Hello {user.name},\n\n{body}\n\n{link}\n")


def expiry_reminder(license, days_left: int) -> None:
    user = license.therapist.user
    current_app.extensions["mailer"].send(
        user.email,
        f"Your license expires in {days_left} day{'s' if days_left != 1 else ''}",
        f"Hello {user.name},\n\nYour license {license.state} {license.number} expires on "
        f"{license.expires_on:%B} {license.expires_on.day}, {license.expires_on.year}. After that date your "
        "profile leaves the directory until a renewed license is verified.\n\nSubmit the renewed license here: "
        f"{url_for('practice.credentials', _external=True)}\n",
    )
