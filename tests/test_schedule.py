"""The beat jobs: the daily license job is the `flask licenses expire` service, and running
it again changes nothing and sends nothing twice."""

from datetime import timedelta

import pytest
from celery.schedules import crontab

from directory.extensions import db
from directory.models import CredentialStatus, License
from directory.schedule import BEAT_SCHEDULE, EXPIRE_LICENSES

from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


def test_the_daily_license_job_expires_and_reminds_once_however_often_it_runs(app, factory, outbox):
    today = TODAY
    lapsed = factory.therapist(name="Lapsed", license_expires=today - timedelta(days=1))
    soon = factory.therapist(name="Soon", license_expires=today + timedelta(days=6))
    job = app.extensions["celery"].tasks[EXPIRE_LICENSES]
    first = job.apply().get()
    assert first == {"expired": 1, "reminded_30": 0, "reminded_7": 1, "bookings_settled": 0}
    assert job.apply().get() == {"expired": 0, "reminded_30": 0, "reminded_7": 0, "bookings_settled": 0}
    db.session.expire_all()
    assert db.session.get(License, lapsed.licenses[0].id).status == CredentialStatus.EXPIRED
    [reminder] = outbox()
    assert reminder["To"] == soon.user.email and reminder["Subject"] == "Your license expires in 6 days"
    assert "http://localhost/account/credentials" in reminder.get_content()


def test_beat_runs_the_license_job_every_morning():
    [entry] = [e for e in BEAT_SCHEDULE.values() if e["task"] == EXPIRE_LICENSES]
    assert entry["schedule"] == crontab(hour=6, minute=15)
