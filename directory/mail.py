"""One mail service: SMTP when MAIL_SERVER is set, otherwise an outbox folder.

In development and tests every message is written to the outbox (instance/outbox
by default) as an .eml file a developer can open; admins can read it at
/auth/dev/outbox in development. Only outbox jobs call send() (notifications/delivery.py
and the message notice): pages and commands write mail to the outbox, they never send it.
"""

from __future__ import annotations

import hashlib
import smtplib
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from . import clock


class Mailer:
    def __init__(self, app):
        self.sender = app.config.get("MAIL_FROM", "TrueTouch Directory <no-reply@truetouch.example>")
        self.server = app.config.get("MAIL_SERVER")
        self.port = int(app.config.get("MAIL_PORT", 587))
        self.username = app.config.get("MAIL_USERNAME")
        self.password = app.config.get("MAIL_PASSWORD")
        self.use_tls = app.config.get("MAIL_USE_TLS", True)
        self.outbox_dir = Path(app.config.get("MAIL_OUTBOX") or Path(app.instance_path) / "outbox")

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        html: str | None = None,
        attachments: list | None = None,
        key: str | None = None,
    ) -> EmailMessage:
        """Deliver now. SMTP errors (OSError and its smtplib subclasses) reach the caller, whose job retries.

        `attachments`: text files, each {"filename", "content_type", "text"}, e.g. a
        calendar invitation as "text/calendar; method=REQUEST". `key`: the outbox row's
        idempotency key: the Message-ID is made from it (a receiving server or mail
        program sees a second delivery as the same mail), and the outbox folder keeps one
        file per key."""
        ident = hashlib.sha256(key.encode()).hexdigest()[:32] if key else uuid.uuid4().hex
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"] = clock.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
        message["Message-ID"] = f"<{ident}@truetouch.example>"
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
        for attachment in attachments or ():
            kind, _, rest = attachment["content_type"].partition(";")
            params = dict(p.strip().split("=", 1) for p in rest.split(";") if "=" in p)
            message.add_attachment(
                attachment["text"],
                subtype=kind.strip().split("/", 1)[1],
                filename=attachment["filename"],
                params=params,
            )
        if self.server:
            with smtplib.SMTP(self.server, self.port, timeout=20) as smtp:
                if self.use_tls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        else:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            if key and any(self.outbox_dir.glob(f"*-{ident}.eml")):
                return message  # delivered before, by an attempt that did not live to record it
            stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
            partial = self.outbox_dir / f".{ident}.partial"  # renamed whole: never half a mail under its name
            partial.write_bytes(bytes(message))
            partial.replace(self.outbox_dir / f"{stamp}-{ident}.eml")
        return message

    def outbox(self) -> list[EmailMessage]:
        """Messages written to the outbox, newest first."""
        if not self.outbox_dir.exists():
            return []
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(p.read_bytes()) for p in sorted(self.outbox_dir.glob("*.eml"), reverse=True)]


def plain_text(message: EmailMessage) -> str:
    """The text part of a message, whether or not it carries an HTML alternative."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
