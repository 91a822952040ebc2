"""The one job that sends mail: the Mailer (SMTP, or the outbox), retried with backoff.

A refused or unreachable SMTP server (smtplib's errors are OSErrors) is tried again
after about 1, 2, 4, ... seconds (at most ten minutes apart, with jitter), eight times
before the job gives up. The message was rendered before it was queued, so the worker
needs neither the request nor the database to deliver it.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from celery import shared_task
from flask import current_app

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


@shared_task(
    name=DELIVER,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver(letter: Letter) -> None:
    current_app.extensions["mailer"].send(
        letter["to"], letter["subject"], letter["text"], html=letter["html"], attachments=letter.get("attachments")
    )
