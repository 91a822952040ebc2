"""Profile counts: one upsert per request without Redis; with it, HINCRBY per day and a
flush job that moves them to the database once, however often it runs."""

from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from directory import stats
from directory.extensions import db
from directory.models import ProfileStat
from directory.schedule import BEAT_SCHEDULE, FLUSH_STATS

from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def counted(factory):
    return factory.therapist(name="Counted"), factory.therapist(name="Other")


def visit(app, *urls):
    visitor = app.test_client()
    for url in urls:
        assert visitor.get(url).status_code == 200


def test_without_redis_each_request_writes_its_counts_after_the_response(app, counted):
    one, other = counted
    visit(app, "/api/v1/search?location=60601", "/search?location=60601", f"/therapists/{one.id}")
    assert stats.last_30_days(one.id) == {"impressions": 2, "views": 1}
    assert stats.last_30_days(other.id) == {"impressions": 2, "views": 0}
    assert db.session.scalar(select(func.count()).select_from(ProfileStat)) == 2  # one row per profile and day


@pytest.fixture
def redis_counts(app, redis_url, monkeypatch):
    client = redis.Redis.from_url(redis_url)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)

    def clear():
        keys = list(client.scan_iter(match=f"{stats.PREFIX}:*"))
        if keys:
            client.delete(*keys)

    clear()
    yield client
    clear()


def test_with_redis_counts_wait_in_redis_until_the_flush_moves_them_once(app, counted, redis_counts):
    one, other = counted
    visit(app, "/search?location=60601", "/search?location=60601", f"/therapists/{one.id}")
    today = f"{stats.PREFIX}:day:{TODAY.isoformat()}"
    assert redis_counts.hgetall(today) == {
        f"impressions:{one.id}".encode(): b"2",
        f"impressions:{other.id}".encode(): b"2",
        f"views:{one.id}".encode(): b"1",
    }
    assert stats.last_30_days(one.id) == {"impressions": 0, "views": 0}  # not flushed yet

    assert stats.flush() == 2
    assert stats.last_30_days(one.id) == {"impressions": 2, "views": 1}
    assert list(redis_counts.scan_iter(match=f"{stats.PREFIX}:*")) == []
    assert stats.flush() == 0  # run again: nothing counted twice
    assert stats.last_30_days(one.id) == {"impressions": 2, "views": 1}

    visit(app, f"/therapists/{one.id}")
    assert stats.flush() == 1
    assert stats.last_30_days(one.id) == {"impressions": 2, "views": 2}


def test_the_flush_takes_up_a_batch_an_earlier_flush_left_and_skips_deleted_profiles(app, counted, redis_counts):
    one, other = counted
    yesterday = TODAY - timedelta(days=1)
    redis_counts.hset(f"{stats.PREFIX}:batch:{yesterday.isoformat()}:left-by-a-failed-flush", f"views:{one.id}", 3)
    redis_counts.hset(f"{stats.PREFIX}:day:{TODAY.isoformat()}", f"views:{one.id}", 1)
    redis_counts.hset(f"{stats.PREFIX}:day:{TODAY.isoformat()}", "views:999999", 5)
    assert stats.flush() == 2
    rows = db.session.execute(select(ProfileStat.day, ProfileStat.views).order_by(ProfileStat.day)).all()
    assert rows == [(yesterday, 3), (TODAY, 1)]
    assert stats.last_30_days(one.id)["views"] == 4


def test_a_second_flush_running_at_the_same_time_steps_aside(app, counted, redis_counts):
    one, _ = counted
    redis_counts.hset(f"{stats.PREFIX}:day:{TODAY.isoformat()}", f"views:{one.id}", 1)
    with redis_counts.lock(f"{stats.PREFIX}:flush-lock", timeout=30):
        assert stats.flush() == 0
    assert stats.flush() == 1


def test_beat_flushes_the_counts_every_minute():
    [entry] = [e for e in BEAT_SCHEDULE.values() if e["task"] == FLUSH_STATS]
    assert entry["schedule"] == 60.0
