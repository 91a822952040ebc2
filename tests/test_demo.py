"""`flask demo seed`: deterministic, realistic, and showing the listing rules."""

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from directory.extensions import db
from directory.models import TherapistProfile
from directory.therapists.demo import make_rows


def test_same_seed_same_therapists():
    a = make_rows(60, seed=7, today=date(2026, 1, 1))
    b = make_rows(60, seed=7, today=date(2026, 1, 1))
    c = make_rows(60, seed=8, today=date(2026, 1, 1))
    assert [(r.name, r.postal_code, r.prices) for r in a] == [(r.name, r.postal_code, r.prices) for r in b]
    assert [r.name for r in a] != [r.name for r in c]


def test_realistic_mix():
    rows = make_rows(500, seed=2026, today=date(2026, 1, 1))
    metros = {(r.city, r.state) for r in rows}
    assert len({r.state for r in rows}) >= 12 and len(metros) >= 15
    genders = Counter(r.gender for r in rows)
    assert set(genders) == {"female", "male", "nonbinary"}
    assert {60} <= set().union(*(r.prices for r in rows)) and {30, 45} <= set().union(*(r.prices for r in rows))
    assert all(40 <= r.prices[60] <= 300 for r in rows)
    techniques = Counter(t for r in rows for t in r.techniques)
    assert set(techniques) == {
        "swedish",
        "deep_tissue",
        "sports",
        "trigger_point",
        "reflexology",
        "prenatal",
        "oncology",
    }
    assert all("prenatal" in r.certifications for r in rows if "prenatal" in r.techniques)
    assert sum("es" in r.languages for r in rows) > 20
    from directory.geo import lookup_zip

    assert all(lookup_zip(r.postal_code).latitude == r.latitude for r in rows)


def test_seed_command_creates_listed_and_unlisted_therapists(runner, ctx):
    result = runner.invoke(args=["demo", "seed", "--count", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    total = db.session.scalar(select(func.count()).select_from(TherapistProfile))
    listed = db.session.scalar(
        select(func.count()).select_from(TherapistProfile).where(TherapistProfile.listable_clause())
    )
    assert total == 120 and 100 <= listed < 120
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert "already has 120 therapists" in again.output
    assert db.session.scalar(select(func.count()).select_from(TherapistProfile)) == 120
