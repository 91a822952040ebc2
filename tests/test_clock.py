"""One clock, one idea of "the day" (issue 22, item 8): a visit's day is the therapist's
local day; a license expires at the end of its date in its state's zone. Every test
here sets the clock (time-machine) to the moment it is about."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from directory import clock
from directory.admin.services import expire_and_remind
from directory.bookings import services
from directory.extensions import db
from directory.models import CredentialStatus, License, TherapistProfile
from directory.receipts.services import Payment, receipt_years, statement

from .booking_people import client_user, free_on, open_therapist
from .conftest import login

HONOLULU, NEW_YORK = ZoneInfo("Pacific/Honolulu"), ZoneInfo("America/New_York")
HONOLULU_ZIP, HONOLULU_AT = "96813", (21.3179, -157.8521)
NEW_YORK_ZIP, NEW_YORK_AT = "10001", (40.7484, -73.9967)


def test_a_new_years_eve_visit_in_chicago_has_a_receipt_and_a_statement_of_that_year(app, factory, make_user):
    with time_machine.travel(datetime(2026, 1, 1, 3, 0, tzinfo=UTC), tick=True):
        rita = open_therapist(factory, hours=(0, 23))  # in America/Chicago
        cleo = client_user(make_user)
        booking = services.request_booking(cleo, rita, free_on(rita), 60, services.IntakeData())
        services.decide(rita, booking, accept=True, message="")
        booking.starts_at = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)  # 18:30 on Dec 31 in Chicago
        booking.ends_at = booking.starts_at + timedelta(minutes=60)
        db.session.commit()
        services.complete(booking, Payment(Decimal("95.00"), Decimal("10.00"), "swedish"))

        assert clock.visit_day(booking) == date(2025, 12, 31)
        number = booking.receipt.number
        assert number == f"TT-2025-{booking.id:06d}"
        assert [r.number for r, _ in statement(cleo, 2025).receipts] == [number]
        assert statement(cleo, 2026).receipts == []
        assert receipt_years(cleo) == [2025]
        c = app.test_client()
        login(c, cleo.email)
        assert number in c.get("/account/receipts/2025").get_data(as_text=True)
        assert number not in c.get("/account/receipts/2026").get_data(as_text=True)


def listed_ids() -> set[int]:
    return set(db.session.scalars(select(TherapistProfile.id).where(TherapistProfile.listable_clause())))


def names_found(client, zip_code: str) -> list[str]:
    response = client.get("/api/v1/search", query_string={"location": zip_code, "radius": 10})
    assert response.status_code == 200
    return [r["name"] for r in response.get_json()["results"]]


def two_therapists(factory, expires_on: date) -> tuple[TherapistProfile, TherapistProfile]:
    kai = factory.therapist(
        name="Kai Honolulu", state="HI", city="Honolulu", postal_code=HONOLULU_ZIP, lat_lon=HONOLULU_AT,
        timezone="Pacific/Honolulu", license_expires=expires_on,
    )  # fmt: skip
    nora = factory.therapist(
        name="Nora New York", state="NY", city="New York", postal_code=NEW_YORK_ZIP, lat_lon=NEW_YORK_AT,
        timezone="America/New_York", license_expires=expires_on,
    )  # fmt: skip
    return kai, nora


def test_a_hawaii_license_expiring_today_is_listed_at_23_00_in_honolulu_while_utc_is_tomorrow(app, client, factory):
    with time_machine.travel(datetime(2026, 3, 10, 23, 0, tzinfo=HONOLULU), tick=False):
        assert clock.now().date() == date(2026, 3, 11)  # UTC (and New York) are on the next day
        kai, nora = two_therapists(factory, date(2026, 3, 10))
        assert kai.is_listable and not nora.is_listable
        assert kai.licenses[0].is_current and not nora.licenses[0].is_current
        assert kai.id in listed_ids() and nora.id not in listed_ids()
        assert names_found(client, HONOLULU_ZIP) == ["Kai Honolulu"]
        assert names_found(client, NEW_YORK_ZIP) == []
        assert client.get(f"/therapists/{kai.id}").status_code == 200
        assert client.get(f"/therapists/{nora.id}").status_code == 404

    with time_machine.travel(datetime(2026, 3, 11, 0, 1, tzinfo=HONOLULU), tick=False):
        db.session.expire_all()
        assert not db.session.get(TherapistProfile, kai.id).is_listable
        assert listed_ids() == set()
        assert names_found(client, HONOLULU_ZIP) == []


def test_a_license_expiring_today_is_listed_until_the_last_minute_of_its_day(app, client, factory):
    with time_machine.travel(datetime(2026, 3, 10, 23, 59, tzinfo=NEW_YORK), tick=False):
        kai, nora = two_therapists(factory, date(2026, 3, 10))
        assert listed_ids() == {kai.id, nora.id}
        assert names_found(client, NEW_YORK_ZIP) == ["Nora New York"]


def test_the_expiry_job_expires_a_license_once_its_own_states_day_is_over(app, factory):
    kai, nora = two_therapists(factory, date(2026, 3, 10))
    hawaii_soon = License(number="HI-SOON", state="HI", expires_on=date(2026, 3, 17), status=CredentialStatus.VERIFIED)
    kai.licenses.append(hawaii_soon)
    db.session.commit()
    reminded: list[tuple[str, int]] = []
    # The beat's hour, 06:15 UTC on Mar 11: 02:15 in New York, still 20:15 on Mar 10 in Honolulu.
    counts = expire_and_remind(
        datetime(2026, 3, 11, 6, 15, tzinfo=UTC), lambda lic, days: reminded.append((lic.number, days))
    )
    db.session.expire_all()
    assert db.session.get(TherapistProfile, nora.id).licenses[0].status == CredentialStatus.EXPIRED
    assert db.session.get(TherapistProfile, kai.id).licenses[0].status == CredentialStatus.VERIFIED
    assert counts["expired"] == 1
    assert ("HI-SOON", 7) in reminded  # seven days from Honolulu's Mar 10


def test_the_clock_rule_itself():
    moment = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
    assert clock.today_in(ZoneInfo("America/Chicago"), moment) == date(2025, 12, 31)
    assert clock.today_in(UTC, moment) == date(2026, 1, 1)
    hawaii = License(state="HI", expires_on=date(2025, 12, 31))
    assert clock.license_end(hawaii) == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert clock.license_holds(hawaii, datetime(2026, 1, 1, 9, 59, tzinfo=UTC))
    assert not clock.license_holds(hawaii, datetime(2026, 1, 1, 10, 0, tzinfo=UTC))
    days = clock.listing_days(datetime(2026, 1, 1, 6, 0, tzinfo=UTC))  # midnight in Chicago
    assert (days.latest, days.earliest) == (date(2026, 1, 1), date(2025, 12, 31))
    assert "HI" in days.behind and "CA" in days.behind and "IL" not in days.behind and "NY" not in days.behind
    assert clock.listing_days(datetime(2026, 1, 1, 18, 0, tzinfo=UTC)).behind == ()
