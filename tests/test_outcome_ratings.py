"""Outcome ratings stored: recorded before and after a visit, counted only as the rules say,
a therapist's results from ten consenting clients, a client's own history."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from directory import outcome_ratings as ratings
from directory.extensions import db
from directory.models import Booking, BookingStatus, Intake, OutcomeRating, Role, User
from directory.service_errors import Conflict, Forbidden, ServiceError

_order = itertools.count(1)


def person(name: str) -> User:
    user = User(email=f"{name}@example.com", name=name, role=Role.CLIENT)
    db.session.add(user)
    db.session.flush()
    return user


def visit(therapist, client, *, goals="pain") -> Booking:
    """A visit requested, pending; every one in its own hour, so none overlap."""
    start = datetime.now(UTC) + timedelta(hours=next(_order))
    booking = Booking(
        therapist_id=therapist.id,
        client_id=client.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=60),
        minutes=60,
        price_amount=Decimal("90"),
        status=BookingStatus.PENDING,
    )
    booking.intake = Intake(goals=goals)
    db.session.add(booking)
    db.session.flush()
    return booking


def rated_visit(therapist, client, pre, post, *, consent=True, goal="pain"):
    """A visit requested with a rating, completed (a few days ago, in the order of the calls),
    and rated again the next day."""
    booking = visit(therapist, client, goals=goal)
    ratings.record_pre(client, booking, {goal: pre}, consent)
    booking.status = BookingStatus.COMPLETED
    booking.starts_at = datetime.now(UTC) - timedelta(days=3) + timedelta(minutes=10 * next(_order))
    booking.ends_at = booking.starts_at + timedelta(minutes=60)
    db.session.flush()
    if post is not None:
        ratings.record_post(client, booking, {goal: post})
    return booking


def test_a_client_rates_before_and_after_and_sees_a_change_that_matters(factory):
    rita = factory.therapist(name="Rita Relax")
    cleo = person("cleo")
    booking = visit(rita, cleo, goals="pain;stress;wellness")
    rows = ratings.record_pre(cleo, booking, {"pain": "7", "stress": 5}, consent=False)
    db.session.commit()
    assert {r.goal: r.pre for r in rows} == {"pain": 7, "stress": 5}
    assert ratings.client_history(cleo) == {}  # not a visit yet

    booking.status = BookingStatus.COMPLETED
    db.session.commit()
    ratings.record_post(cleo, booking, {"pain": 3})  # stress left unanswered
    history = ratings.client_history(cleo)
    assert [(p.pre, p.post, p.matters, p.therapist_name) for p in history["pain"]] == [(7, 3, True, "Rita Relax")]
    assert [(p.pre, p.post, p.matters) for p in history["stress"]] == [(5, None, False)]
    assert "7" not in repr(rows[0]) and "pain" in repr(rows[0])  # no rating in a log line


def test_ratings_are_checked_each_at_its_field(factory):
    rita = factory.therapist()
    cleo, other = person("cleo"), person("olga")
    booking = visit(rita, cleo, goals="pain;stress")
    with pytest.raises(ServiceError) as caught:
        ratings.record_pre(cleo, booking, {"pain": 11, "stress": "lots", "sleep": 3}, True)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"rating_pain", "rating_stress", "ratings"}  # sleep is not a goal of this visit
    for bad in (True, -1, "4.5", None):
        with pytest.raises(ServiceError):
            ratings.record_pre(cleo, booking, {"pain": bad}, True)
    with pytest.raises(ServiceError):
        ratings.record_pre(cleo, visit(rita, cleo, goals="wellness"), {"wellness": 3}, True)  # not rated
    with pytest.raises(Forbidden):
        ratings.record_pre(other, booking, {"pain": 5}, True)
    ratings.record_pre(cleo, booking, {"pain": 5}, True)
    with pytest.raises(Conflict):
        ratings.record_pre(cleo, booking, {"pain": 4}, True)
    assert db.session.scalar(select(OutcomeRating.pre).where(OutcomeRating.booking_id == booking.id)) == 5


def test_the_rating_after_comes_once_after_a_completed_visit_within_the_window(factory):
    rita = factory.therapist()
    cleo = person("cleo")
    booking = visit(rita, cleo, goals="pain")
    ratings.record_pre(cleo, booking, {"pain": 6}, True)
    with pytest.raises(ServiceError, match="completed"):
        ratings.record_post(cleo, booking, {"pain": 2})
    booking.status = BookingStatus.COMPLETED
    with pytest.raises(ServiceError):  # no rating before the visit for stress
        ratings.record_post(cleo, booking, {"stress": 2})
    with pytest.raises(ServiceError):  # a completed visit cannot be rated "before" any more
        ratings.record_pre(cleo, booking, {"pain": 6}, True)
    ratings.record_post(cleo, booking, {"pain": 2})
    with pytest.raises(Conflict):
        ratings.record_post(cleo, booking, {"pain": 1})

    late = visit(rita, cleo, goals="pain")
    ratings.record_pre(cleo, late, {"pain": 6}, True)
    late.status = BookingStatus.COMPLETED
    late.starts_at -= timedelta(days=9)
    late.ends_at -= timedelta(days=9)
    with pytest.raises(ServiceError, match="within 7 days"):
        ratings.record_post(cleo, late, {"pain": 2})


def test_results_appear_from_ten_distinct_consenting_clients_only(factory):
    rita = factory.therapist(name="Rita Relax")
    clients = [person(f"client{i}") for i in range(12)]
    for c in clients[:9]:
        rated_visit(rita, c, 7, 3)
    # None of these make a tenth client: one of the nine again, a refusal, a visit not rated after,
    # a visit never completed, a client who deleted their account.
    rated_visit(rita, clients[0], 7, 3)
    rated_visit(rita, clients[9], 7, 3, consent=False)
    rated_visit(rita, clients[10], 7, None)
    pending = visit(rita, clients[11])
    ratings.record_pre(clients[11], pending, {"pain": 7}, True)
    gone = person("gone")
    rated_visit(rita, gone, 7, 3).client_id = None
    db.session.commit()
    assert ratings.therapist_results(rita) == {"pain": None, "stress": None, "sleep": None, "mobility": None}

    refused = db.session.scalars(select(Booking).where(Booking.client_id == clients[9].id)).one()
    ratings.set_consent(clients[9], refused, True)
    result = ratings.therapist_results(rita)["pain"]
    assert result is not None
    assert result.clients == 10 and result.improved_share == 1.0
    assert result.low <= result.fall <= result.high
    assert result.sentence == "Clients with pain like yours improved by 4.0 points on average, 10 clients"
    assert result.as_dict()["clients"] == 10
    # Withdrawn again: back under the floor.
    ratings.set_consent(clients[9], refused, False)
    assert ratings.therapist_results(rita)["pain"] is None


def test_a_therapist_whose_clients_improve_more_ranks_above_one_whose_clients_do_not(factory):
    rita, tom = factory.therapist(name="Rita Relax"), factory.therapist(name="Tom Same")
    for i in range(10):
        rated_visit(rita, person(f"r{i}"), 7, 3)
        rated_visit(tom, person(f"t{i}"), 7, 6 + i % 2)
    db.session.commit()
    model = ratings.goal_model("pain")
    assert model.rank_key(rita.id) > 0 > model.rank_key(tom.id)
    assert ratings.therapist_results(tom)["pain"].improved_share == 0.0
    assert model.rank_key(factory.therapist().id) == 0.0  # no outcomes: no effect on rank


def test_a_client_counts_at_most_their_first_pairs(factory):
    rita = factory.therapist()
    loyal = person("loyal")
    for _ in range(5):
        rated_visit(rita, loyal, 6, 6)
    for _ in range(3):
        rated_visit(rita, loyal, 9, 0)  # later visits do not count
    for i in range(9):
        rated_visit(rita, person(f"c{i}"), 6, 4)
    db.session.commit()
    assert [p.pre for p in ratings.counted_pairs("pain") if p.client == loyal.id][:5] == [6.0] * 5
    result = ratings.therapist_results(rita)["pain"]
    assert result is not None and result.clients == 10
    assert result.improved_share == pytest.approx(0.9)
