"""Scheduled work, run by Celery beat (`make worker`). Each job is safe to run again.

- licenses: mark lapsed licenses expired and send the 30- and 7-day reminders, each
  once (`flask licenses expire` runs the same service by hand or from cron);
- stats: move the profile counts waiting in Redis into the database;
- bookings: the reminder a day before a confirmed session (to both sides) and, after a
  completed visit, "How was your visit?" to the client, each claimed in the database
  before it is queued, so it is sent once even if two schedulers run; and booking forms
  kept for a sign-in (drafts) removed once a few hours old; requests nobody answered
  before their time expire (the state machine's "expire", mailed to both sides).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.schedules import crontab

from . import clock, notifications, stats
from .admin.services import expire_and_remind
from .bookings import drafts, reminders
from .bookings.services import expire_unanswered

EXPIRE_LICENSES = "directory.schedule.expire_licenses"
FLUSH_STATS = "directory.schedule.flush_stats"
BOOKING_REMINDERS = "directory.schedule.booking_reminders"
REVIEW_PROMPTS = "directory.schedule.review_prompts"
PURGE_DRAFTS = "directory.schedule.purge_booking_drafts"
EXPIRE_REQUESTS = "directory.schedule.expire_requests"

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "expire-licenses-daily": {"task": EXPIRE_LICENSES, "schedule": crontab(hour=6, minute=15)},
    "flush-profile-stats": {"task": FLUSH_STATS, "schedule": 60.0},
    "booking-reminders": {"task": BOOKING_REMINDERS, "schedule": crontab(minute="*/15")},
    "review-prompts": {"task": REVIEW_PROMPTS, "schedule": crontab(minute="7-59/15")},
    "purge-booking-drafts": {"task": PURGE_DRAFTS, "schedule": crontab(minute=40)},
    "expire-requests": {"task": EXPIRE_REQUESTS, "schedule": crontab(minute="*/15")},
}


def expire_licenses_today() -> dict[str, int]:
    """The license housekeeping of today: the beat job and `flask licenses expire` both run this."""
    return expire_and_remind(clock.now(), notifications.license_expiring)


@shared_task(name=EXPIRE_LICENSES)
def expire_licenses() -> dict[str, int]:
    return expire_licenses_today()


@shared_task(name=FLUSH_STATS)
def flush_stats() -> int:
    return stats.flush()


@shared_task(name=BOOKING_REMINDERS)
def booking_reminders() -> int:
    return reminders.send_reminders(notifications.booking_reminder)


@shared_task(name=REVIEW_PROMPTS)
def review_prompts() -> int:
    return reminders.send_review_prompts(notifications.review_prompt)


@shared_task(name=PURGE_DRAFTS)
def purge_booking_drafts() -> int:
    return drafts.purge()


@shared_task(name=EXPIRE_REQUESTS)
def expire_requests() -> int:
    return expire_unanswered()
