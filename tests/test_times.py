"""Every datetime leaves the database aware, in UTC, on SQLite as on PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import User


def test_a_stored_time_comes_back_aware_and_in_utc(ctx):
    eastern = timezone(timedelta(hours=-5))
    user = User(email="t@example.com", name="T", created_at=datetime(2026, 3, 1, 9, 30, tzinfo=eastern))
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(User.created_at).where(User.id == user.id))
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)


def test_a_naive_time_is_refused_rather_than_guessed(ctx):
    naive = datetime(2026, 3, 1, 9, 30)  # noqa: DTZ001  (naive on purpose: it must be refused)
    db.session.add(User(email="n@example.com", name="N", created_at=naive))
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()
