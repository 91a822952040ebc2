"""The one job that sends mail: the Mailer (SMTP, or the outbox folder).

The letter is a row of the outbox (outbox.py) written with the change it announces; a
refused or unreachable SMTP server (smtplib's errors are OSErrors) fails the attempt, and
the outbox tries again after about 1, 2, 4, ... seconds (at most ten minutes apart). The
row's idempotency key becomes the mail's Message-ID, so a delivery tried again after a
crash is one mail. The message was rendered before it was queued, so the worker needs
neither the request nor the database to deliver it.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from celery import shared_task
from flask import current_app

from ..outbox import running_key

DELIVER = "directory.notifications.deliver"


class Attachment(TypedDict):
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    text: str


class Letter(TypedDict):
    to: str
    subject: str
    text: str
    html: str | None
    attachments: NotRequired[list[Attachment]]


@shared_task(name=DELIVER)
def deliver(letter: Letter) -> None:
    current_app.extensions["mailer"].send(
        letter["to"],
        letter["subject"],
        letter["text"],
        html=letter["html"],
        attachments=letter.get("attachments"),
        key=running_key(),
    )
