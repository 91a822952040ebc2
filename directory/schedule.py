"""Scheduled work, run by Celery beat (`make worker`). Each job is safe to run again.

- licenses: mark lapsed licenses expired and send the 30- and 7-day reminders, each
  once (`flask licenses expire` runs the same service by hand or from cron);
- stats: move the profile counts waiting in Redis into the database.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from celery.schedules import crontab

from . import notifications, stats
from .admin.services import expire_and_remind

EXPIRE_LICENSES = "directory.schedule.expire_licenses"
FLUSH_STATS = "directory.schedule.flush_stats"

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "expire-licenses-daily": {"task": EXPIRE_LICENSES, "schedule": crontab(hour=6, minute=15)},
    "flush-profile-stats": {"task": FLUSH_STATS, "schedule": 60.0},
}


def expire_licenses_today() -> dict[str, int]:
    """The license housekeeping of today: the beat job and `flask licenses expire` both run this."""
    return expire_and_remind(date.today(), notifications.license_expiring)


@shared_task(name=EXPIRE_LICENSES)
def expire_licenses() -> dict[str, int]:
    return expire_licenses_today()


@shared_task(name=FLUSH_STATS)
def flush_stats() -> int:
    return stats.flush()
