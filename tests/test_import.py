"""`flask therapists import`: all rows or none, line-numbered errors, updates not duplicates."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import CredentialStatus, License, TherapistProfile, User
from directory.therapists.importer import COLUMNS

from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")

FUTURE = (TODAY + timedelta(days=400)).isoformat()


def row(**overrides):
    base = {
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "license_number": "MT-1001",
        "license_state": "IL",
        "license_expires": FUTURE,
        "techniques": "swedish;deep_tissue",
        "certifications": "prenatal",
        "price_30": "",
        "price_45": "75",
        "price_60": "95",
        "price_90": "",
        "address": "",
        "city": "",
        "state": "",
        "postal_code": "60601",
        "latitude": "",
        "longitude": "",
        "gender": "female",
        "languages": "en;es",
        "hsa_fsa": "yes",
        "accepting_new_clients": "yes",
        "mobile_radius_miles": "10",
        "bio": "Gentle, attentive work.",
    }
    base.update(overrides)
    return base


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_valid_file_imports_every_row(runner, ctx, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            row(),
            row(
                name="Ben Okafor",
                email="ben@example.com",
                license_number="MT-2002",
                postal_code="",
                city="Evanston",
                state="IL",
                techniques="sports",
                certifications="",
                price_45="",
                gender="male",
                languages="",
            ),
        ],
    )
    result = runner.invoke(args=["therapists", "import", path])
    assert result.exit_code == 0, result.output
    assert "Imported 2 therapists: 2 new, 0 updated" in result.output
    ana = db.session.scalar(select(TherapistProfile).filter_by(name="Ana Lopez"))
    assert ana.city == "Chicago" and ana.state == "IL" and ana.postal_code == "60601"
    assert (ana.latitude, ana.longitude) == (41.8858, -87.6181)
    assert ana.technique_slugs == ["deep_tissue", "swedish"]
    assert {m: float(a) for m, a in ana.price_by_minutes.items()} == {45: 75.0, 60: 95.0}
    assert ana.language_codes == ["en", "es"] and ana.hsa_fsa and ana.mobile_radius_miles == 10
    assert ana.timezone == "America/Chicago"
    assert ana.licenses[0].status == CredentialStatus.PENDING  # not verified without --verified
    assert not ana.is_listable
    ben = db.session.scalar(select(TherapistProfile).filter_by(name="Ben Okafor"))
    assert ben.city == "Evanston" and abs(ben.latitude - 42.04) < 0.1  # geocoded from city and state
    assert ben.language_codes == ["en"]


def test_verified_flag_verifies_licenses_and_certifications_today(runner, ctx, tmp_path):
    path = write_csv(tmp_path / "t.csv", [row()])
    result = runner.invoke(args=["therapists", "import", path, "--verified"])
    assert result.exit_code == 0, result.output
    profile = db.session.scalar(select(TherapistProfile))
    lic = profile.licenses[0]
    assert lic.status == CredentialStatus.VERIFIED and lic.verified_at.date() == TODAY
    assert lic.verified_via == "bulk import"
    assert [c.slug for c in profile.verified_certifications] == ["prenatal"]
    assert profile.is_listable


def test_importing_again_updates_and_never_duplicates(runner, ctx, tmp_path):
    runner.invoke(args=["therapists", "import", write_csv(tmp_path / "a.csv", [row()]), "--verified"])
    path = write_csv(
        tmp_path / "b.csv",
        [row(price_60="110", techniques="swedish", bio="New bio", license_state="il", license_number="mt-1001")],
    )
    result = runner.invoke(args=["therapists", "import", path])
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated" in result.output
    assert count(TherapistProfile) == 1 and count(License) == 1 and count(User) == 1
    db.session.expire_all()
    profile = db.session.scalar(select(TherapistProfile))
    assert float(profile.price_by_minutes[60]) == 110 and profile.technique_slugs == ["swedish"]
    assert profile.bio == "New bio"
    assert profile.licenses[0].status == CredentialStatus.VERIFIED  # same expiry: still verified


def test_changed_expiry_returns_the_license_to_pending(runner, ctx, tmp_path):
    runner.invoke(args=["therapists", "import", write_csv(tmp_path / "a.csv", [row()]), "--verified"])
    later = (TODAY + timedelta(days=800)).isoformat()
    runner.invoke(args=["therapists", "import", write_csv(tmp_path / "b.csv", [row(license_expires=later)])])
    db.session.expire_all()
    assert db.session.scalar(select(License)).status == CredentialStatus.PENDING


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"techniques": "swedish;hot_stone"}, "techniques: unknown value 'hot_stone'"),
        ({"techniques": ""}, "techniques: list at least one technique"),
        ({"certifications": "reiki"}, "certifications: unknown value 'reiki'"),
        ({"license_state": "ZZ"}, "license_state: 'ZZ' is not a two-letter US state code"),
        ({"license_number": ""}, "license_number: missing"),
        ({"license_expires": "12/31/2027"}, "license_expires: '12/31/2027' is not a date in YYYY-MM-DD form"),
        ({"price_60": "-5"}, "price_60: Enter a price from $20 to $1000"),
        ({"price_60": "abc"}, "price_60: 'abc' is not a price"),
        ({"price_45": "", "price_60": ""}, "give at least one of price_30"),
        ({"postal_code": "00000"}, "postal_code: '00000' is not a known US ZIP code"),
        ({"email": "not-an-email"}, "email: 'not-an-email' is not a valid email address"),
        ({"name": ""}, "name: missing"),
        ({"gender": "other"}, "gender: 'other' is not one of female, male, nonbinary"),
        ({"languages": "en;xx"}, "languages: unknown value 'xx'"),
        ({"hsa_fsa": "maybe"}, "hsa_fsa: 'maybe' is not yes or no"),
        ({"latitude": "41.9"}, "latitude/longitude: give both or neither"),
        ({"latitude": "95", "longitude": "-87"}, "latitude: Latitude must be between -90 and 90"),
        ({"mobile_radius_miles": "-3"}, "mobile_radius_miles: Travel distance must be between 0 and 100 miles"),
        ({"postal_code": "", "city": "Atlantis", "state": "IL"}, "address: We could not find the city 'Atlantis'"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_written(runner, ctx, tmp_path, overrides, message):
    good = row(name="Good Row", email="good@example.com", license_number="MT-9")
    path = write_csv(tmp_path / "t.csv", [good, row(**overrides)])
    result = runner.invoke(args=["therapists", "import", path])
    assert result.exit_code != 0
    assert "line 3: " in result.output and message in result.output, result.output
    assert "nothing imported: 1 row need fixing" in result.output
    assert count(TherapistProfile) == 0 and count(User) == 0


def test_every_bad_row_is_listed_with_its_line(runner, ctx, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            row(techniques="hot_stone"),
            row(email="b@example.com", license_number="MT-2"),
            row(email="c@example.com", license_number="MT-3", license_state="XX", price_60="-1"),
            row(email="d@example.com", license_number="MT-2"),
        ],
    )
    result = runner.invoke(args=["therapists", "import", path])
    assert result.exit_code == 1
    lines = [text for text in result.output.splitlines() if text.startswith("line ")]
    assert [text.split(":")[0] for text in lines] == ["line 2", "line 4", "line 5"]
    assert "license_state" in lines[1] and "price_60" in lines[1]
    assert "license IL MT-2 already appears on line 3" in lines[2]
    assert count(TherapistProfile) == 0


def test_existing_data_survives_a_failed_import(runner, ctx, tmp_path):
    runner.invoke(args=["therapists", "import", write_csv(tmp_path / "a.csv", [row()]), "--verified"])
    bad = write_csv(
        tmp_path / "b.csv",
        [row(price_60="120"), row(email="x@example.com", license_number="X1", license_expires="soon")],
    )
    assert runner.invoke(args=["therapists", "import", bad]).exit_code == 1
    db.session.expire_all()
    assert float(db.session.scalar(select(TherapistProfile)).price_by_minutes[60]) == 95


def test_missing_columns_are_named(runner, ctx, tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"name": "A", "email": "a@example.com"}], columns=("name", "email"))
    result = runner.invoke(args=["therapists", "import", path])
    assert result.exit_code == 1
    assert "missing columns: license_number, license_state, license_expires, techniques" in result.output


def test_multiline_bio_keeps_line_numbers_right(runner, ctx, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [row(bio="first line\nsecond line"), row(email="z@example.com", license_number="Z", techniques="bogus")],
    )
    result = runner.invoke(args=["therapists", "import", path])
    assert "line 4: techniques: unknown value 'bogus'" in result.output


def test_non_utf8_file_is_refused_clearly(runner, ctx, tmp_path):
    path = tmp_path / "latin1.csv"
    text = io.StringIO()
    csv.DictWriter(text, fieldnames=COLUMNS).writeheader()
    path.write_bytes(text.getvalue().encode() + "José".encode("latin-1"))
    result = runner.invoke(args=["therapists", "import", str(path)])
    assert result.exit_code == 1 and "is not UTF-8 text" in result.output


def test_same_email_with_a_new_license_adds_it_to_that_therapist(runner, ctx, tmp_path):
    runner.invoke(args=["therapists", "import", write_csv(tmp_path / "a.csv", [row()])])
    result = runner.invoke(
        args=["therapists", "import", write_csv(tmp_path / "b.csv", [row(license_number="OTHER-1")])]
    )
    assert result.exit_code == 0, result.output
    assert count(TherapistProfile) == 1 and count(License) == 2


def test_email_of_another_therapist_is_a_conflict(runner, ctx, tmp_path):
    runner.invoke(
        args=[
            "therapists",
            "import",
            write_csv(tmp_path / "a.csv", [row(), row(name="Ben", email="ben@example.com", license_number="MT-2")]),
        ]
    )
    result = runner.invoke(args=["therapists", "import", write_csv(tmp_path / "b.csv", [row(email="ben@example.com")])])
    assert result.exit_code == 1
    assert "line 2: email ben@example.com belongs to a different therapist" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(License).filter_by(number="MT-1001")).therapist.user.email == "ana@example.com"
