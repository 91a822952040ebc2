"""The listing summary on each profile follows every change to what it summarises."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import (
    Certification,
    CredentialStatus,
    License,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
)
from directory.therapists.listing import refresh_all, summarise

from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


def reload(profile):
    db.session.expire_all()
    return db.session.get(TherapistProfile, profile.id)


def test_new_profile_is_summarised(factory):
    t = factory.therapist(techniques=("swedish", "deep_tissue"), certifications=("prenatal",), prices={30: 50, 60: 90})
    t = reload(t)
    assert t.listed_until == t.licenses[0].expires_on
    assert t.search_techniques == "deep_tissue,swedish"
    assert t.search_certifications == "prenatal"
    assert t.search_prices == "30:50.00,60:90.00"


def test_license_status_and_expiry_changes_follow(factory):
    t = factory.therapist()
    lic = t.licenses[0]
    lic.status = CredentialStatus.PENDING
    db.session.commit()
    assert reload(t).listed_until is None and not reload(t).is_listable
    lic = db.session.get(License, lic.id)
    lic.status, lic.expires_on = CredentialStatus.VERIFIED, TODAY + timedelta(days=3)
    db.session.commit()
    assert reload(t).listed_until == TODAY + timedelta(days=3)


def test_the_latest_verified_license_counts(factory):
    t = factory.therapist(license_expires=TODAY + timedelta(days=10))
    t.licenses.append(
        License(number="SECOND", state="IN", expires_on=TODAY + timedelta(days=400), status=CredentialStatus.VERIFIED)
    )
    db.session.commit()
    assert reload(t).listed_until == TODAY + timedelta(days=400)
    db.session.delete(db.session.scalar(select(License).filter_by(number="SECOND")))
    db.session.commit()
    assert reload(t).listed_until == TODAY + timedelta(days=10)


def test_suspension_and_reinstatement_follow(factory):
    t = factory.therapist()
    t.suspended_at = datetime.now(UTC)
    db.session.commit()
    assert reload(t).listed_until is None
    t = reload(t)
    t.suspended_at = None
    db.session.commit()
    assert reload(t).listed_until is not None


def test_certification_techniques_and_prices_follow(factory):
    t = factory.therapist(certifications=("oncology",), cert_status=CredentialStatus.PENDING)
    assert reload(t).search_certifications == ""
    cert = db.session.scalar(select(Certification))
    cert.status, cert.expires_on = CredentialStatus.VERIFIED, date(2031, 1, 1)
    db.session.commit()
    assert reload(t).search_certifications == "oncology@2031-01-01"
    t = reload(t)
    t.techniques = [TherapistTechnique(technique="sports")]
    t.prices.append(SessionPrice(minutes=90, amount=Decimal("150")))
    db.session.commit()
    t = reload(t)
    assert t.search_techniques == "sports" and t.search_prices == "60:90.00,90:150.00"


def test_an_expired_license_leaves_search_with_no_job(client, factory):
    t = factory.therapist(license_expires=TODAY - timedelta(days=1))
    body = client.get("/api/v1/search?location=60601").get_json()
    assert body["total"] == 0
    assert client.get(f"/therapists/{t.id}").status_code == 404


def test_refresh_all_repairs_summaries_written_around_the_orm(factory):
    t = factory.therapist(techniques=("swedish",))
    db.session.execute(TherapistProfile.__table__.update().values(search_techniques="", listed_until=None))
    db.session.commit()
    assert refresh_all(db.session) == 1
    db.session.commit()
    t = reload(t)
    assert t.search_techniques == "swedish" and t.listed_until is not None
    assert summarise(t)["search_techniques"] == "swedish"


def test_reindex_command(runner, factory):
    t = factory.therapist(techniques=("reflexology",))
    db.session.execute(TherapistProfile.__table__.update().values(search_techniques=""))
    db.session.commit()
    result = runner.invoke(args=["therapists", "reindex"])
    assert result.exit_code == 0 and "Recomputed the listing summary of 1 therapists." in result.output
    assert reload(t).search_techniques == "reflexology"


def test_the_search_reads_a_profile_as_the_engine_would_from_its_candidate(factory):
    """A row the search fetches is the engine's Listing, field by field, and turns
    back into the candidate the profile describes."""
    from directory.clock import listing_days
    from directory.matching.engine import Listing, to_candidate
    from directory.search.candidates import COLUMNS, load_listings

    assert [c.name for c in COLUMNS] == list(Listing._fields)
    t = factory.therapist(techniques=("swedish", "prenatal"), certifications=("prenatal",), prices={30: 50, 60: 92.5})
    t.languages, t.years_experience, t.mobile_radius_miles = "en;es", 7, 12.0
    db.session.commit()
    [row] = load_listings(t.latitude, t.longitude, 1, listing_days())
    c = to_candidate(row, TODAY)
    assert (c.id, c.techniques, c.certifications, c.prices, c.languages, c.years_experience, c.mobile_radius_miles) == (
        t.id,
        {"swedish", "prenatal"},
        {"prenatal"},
        {30: 50.0, 60: 92.5},
        ("en", "es"),
        7,
        12.0,
    )
    assert (c.gender, c.hsa_fsa, c.accepting_new_clients) == (t.gender, t.hsa_fsa, t.accepting_new_clients)


def test_the_set_based_reindex_writes_what_the_listing_summary_says(factory):
    """`reindex` recomputes in SQL, in batches: each profile's columns equal
    listing.summarise of its rows, whatever the mix (no license verified, an expiring
    certification, several prices, a suspension), across batch boundaries."""
    from decimal import Decimal

    made = [
        factory.therapist(techniques=("swedish", "deep_tissue", "sports"), prices={30: 50, 60: 90, 90: 132.5}),
        factory.therapist(certifications=("prenatal", "oncology"), prices={45: Decimal("70.05")}),
        factory.therapist(license_status=CredentialStatus.PENDING, certifications=("sports",)),
        factory.therapist(cert_status=CredentialStatus.PENDING, certifications=("prenatal",)),
        factory.therapist(suspended=True),
        factory.therapist(techniques=("reflexology",)),
    ]
    cert = made[1].certifications[0]
    cert.expires_on = date(2031, 1, 31)
    extra = License(number="SECOND-9", state="IN", expires_on=TODAY + timedelta(days=999))
    extra.status = CredentialStatus.VERIFIED
    made[0].licenses.append(extra)
    db.session.commit()
    expected = {p.id: summarise(reload(p)) for p in made}
    db.session.execute(
        TherapistProfile.__table__.update().values(
            listed_until=None, search_techniques="x", search_certifications="y", search_prices="z"
        )
    )
    db.session.commit()
    assert refresh_all(db.session, batch=4) == len(made)
    db.session.commit()
    for profile_id, summary in expected.items():
        profile = reload(db.session.get(TherapistProfile, profile_id))
        assert {key: getattr(profile, key) for key in summary} == summary == summarise(profile)
