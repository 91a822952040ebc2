"""Deterministic, realistic demo therapists at real ZIP centroids in US metros."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice

from sqlalchemy import bindparam, func, insert, select, update

from .. import clock
from ..extensions import db
from ..geo import gazetteer, normalise_city
from ..models import CredentialStatus, License, TherapistProfile, WeeklyHours, utcnow
from . import bulk
from .bulk import table_of
from .importer import CHUNK_ROWS, VACUUM_AFTER, TherapistRow, staged

DEMO_VIA = "demo data"  # how the demo's credentials were verified

METROS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("New York", "NY", ("es", "zh", "ru", "ko")),
    ("Brooklyn", "NY", ("es", "ru", "yi")),
    ("Los Angeles", "CA", ("es", "ko", "tl", "hy")),
    ("Chicago", "IL", ("es", "pl")),
    ("Houston", "TX", ("es", "vi")),
    ("Phoenix", "AZ", ("es",)),
    ("Philadelphia", "PA", ("es", "it")),
    ("San Antonio", "TX", ("es",)),
    ("San Diego", "CA", ("es", "tl")),
    ("Dallas", "TX", ("es", "vi")),
    ("Austin", "TX", ("es",)),
    ("Seattle", "WA", ("zh", "vi", "ja")),
    ("Denver", "CO", ("es",)),
    ("Boston", "MA", ("pt", "ht", "zh")),
    ("Atlanta", "GA", ("es", "ko")),
    ("Miami", "FL", ("es", "ht", "pt")),
    ("Portland", "OR", ("es", "ru")),
    ("Minneapolis", "MN", ("so", "es")),
    ("Nashville", "TN", ("es", "ar")),
    ("Washington", "DC", ("es", "am", "fr")),
    ("San Francisco", "CA", ("zh", "es", "tl")),
)

FEMALE = (
    "Maria",
    "Jennifer",
    "Aisha",
    "Sofia",
    "Emily",
    "Grace",
    "Hannah",
    "Olivia",
    "Priya",
    "Mei",
    "Camila",
    "Nicole",
    "Rachel",
    "Lauren",
    "Ana",
    "Yuki",
    "Fatima",
    "Claire",
    "Jasmine",
    "Danielle",
    "Elena",
    "Keisha",
    "Rosa",
    "Leah",
    "Naomi",
    "Julia",
)
MALE = (
    "James",
    "Michael",
    "Carlos",
    "David",
    "Daniel",
    "Andre",
    "Kevin",
    "Luis",
    "Marcus",
    "Ethan",
    "Hiroshi",
    "Omar",
    "Brian",
    "Samuel",
    "Jamal",
    "Victor",
    "Noah",
    "Ryan",
)
NONBINARY = ("Alex", "Jordan", "Taylor", "Sam", "Riley", "Quinn", "Avery", "Jamie")
LAST = (
    "Garcia",
    "Smith",
    "Johnson",
    "Nguyen",
    "Kim",
    "Patel",
    "Rodriguez",
    "Williams",
    "Chen",
    "Brown",
    "Lopez",
    "Davis",
    "Martinez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Jackson",
    "Lee",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "Wright",
    "Scott",
    "Torres",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Okafor",
    "Cohen",
    "Sato",
    "Novak",
    "Haddad",
    "Silva",
    "Murphy",
    "Reyes",
    "Ivanova",
    "Park",
)

# (techniques, certifications it brings, weight): realistic practice profiles.
PRACTICES = (
    (("swedish", "deep_tissue"), (), 22),
    (("swedish", "deep_tissue", "trigger_point"), (), 14),
    (("sports", "deep_tissue", "trigger_point"), ("sports",), 10),
    (("swedish", "reflexology"), ("reflexology",), 8),
    (("swedish", "prenatal"), ("prenatal",), 9),
    (("swedish", "prenatal", "reflexology"), ("prenatal",), 4),
    (("swedish", "oncology"), ("oncology",), 5),
    (("swedish", "deep_tissue", "sports"), (), 8),
    (("deep_tissue", "trigger_point"), (), 8),
    (("swedish",), (), 6),
    (("swedish", "deep_tissue", "prenatal"), ("prenatal",), 4),
    (("reflexology",), ("reflexology",), 2),
)

SPECIALTY_SENTENCES = {
    "swedish": "I use long, gliding Swedish strokes to help you relax and ease muscle tension.",
    "deep_tissue": "For chronic pain and postural strain I work slowly into the deeper layers.",
    "sports": "I work with runners and weekend athletes on recovery and injury prevention.",
    "trigger_point": "I release the knots that send pain to your head, neck and shoulders.",
    "reflexology": "Reflexology on the feet and hands is one of my favourite ways to calm stress.",
    "prenatal": "Prenatal clients get gentle, slow work, side-lying, with oils meant for pregnancy.",
    "oncology": "I am trained to adjust pressure and positioning for clients in cancer treatment.",
}


def _metro_zips(city: str, state: str) -> list:
    places = gazetteer()[1].get((normalise_city(city), state), [])
    if not places:
        raise LookupError(f"no ZIP codes for {city}, {state}")
    return sorted(places, key=lambda p: p.zip_code)


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low, high + 1, 5))


def make_rows(count: int, seed: int, today: date) -> list[TherapistRow]:
    return list(iter_rows(count, seed, today))


def iter_rows(count: int, seed: int, today: date) -> Iterator[TherapistRow]:
    """The demo therapists one at a time (a national-size seed never holds them all)."""
    rng = random.Random(seed)  # noqa: S311 made-up demo people, repeatable from a seed; no secret
    practices = [p for p in PRACTICES for _ in range(p[2])]
    for i in range(count):
        city, state, local_languages = METROS[i % len(METROS)]
        place = rng.choice(_metro_zips(city, state))
        roll = rng.random()
        gender = "female" if roll < 0.74 else "male" if roll < 0.97 else "nonbinary"
        first = rng.choice({"female": FEMALE, "male": MALE, "nonbinary": NONBINARY}[gender])
        last = rng.choice(LAST)
        techniques, practice_certifications, _ = rng.choice(practices)
        certifications = list(practice_certifications)
        if rng.random() < 0.25:
            certifications.append("board_certified")
        premium = 1.0 + (0.25 if state in ("NY", "CA", "MA", "DC", "WA") else 0) + 0.1 * len(certifications)
        base60 = int(rng.randrange(70, 125, 5) * premium) // 5 * 5
        prices = {60: Decimal(base60)}
        if rng.random() < 0.6:
            prices[30] = Decimal(max(35, int(base60 * 0.6) // 5 * 5))
        if rng.random() < 0.55:
            prices[45] = Decimal(int(base60 * 0.8) // 5 * 5)
        if rng.random() < 0.45:
            prices[90] = Decimal(int(base60 * 1.45) // 5 * 5)
        languages = ["en"] + ([rng.choice(local_languages)] if rng.random() < 0.3 else [])
        years = rng.randint(1, 28)
        bio = " ".join(
            [f"Licensed massage therapist with {years} year{'s' if years > 1 else ''} of practice in {place.city}."]
            + [SPECIALTY_SENTENCES[t] for t in techniques]
        )
        # The row's number keeps each license its own, at any count.
        serial = f"{rng.randint(10, 99)}{i + 1:07d}"
        number = f"CAMTC-{serial}" if state == "CA" else f"{state}-LMT-{serial}"
        yield (
            TherapistRow(
                line=i + 1,
                name=f"{first} {last}",
                email=f"{first}.{last}.{i + 1}@demo.example".lower(),
                license_number=number,
                license_state=state,
                license_expires=today + timedelta(days=rng.randint(120, 900)),
                techniques=list(techniques),
                certifications=sorted(set(certifications)),
                prices=prices,
                address="",
                city=place.city,
                state=place.state,
                postal_code=place.zip_code,
                latitude=place.latitude,
                longitude=place.longitude,
                timezone=place.timezone,
                gender=gender,
                languages=languages,
                hsa_fsa=rng.random() < 0.4,
                accepting_new_clients=rng.random() < 0.88,
                mobile_radius_miles=float(rng.choice((5, 10, 15, 20, 25))) if rng.random() < 0.25 else None,
                bio=bio,
                years_experience=years,
            )
        )


def seed_demo(count: int = 500, seed: int = 2026, today: date | None = None) -> dict[str, int]:
    """Create demo therapists in one transaction; most listable, a few not (to show the rules).

    Written as the import writes (bulk.py), a chunk at a time, so a national-size seed
    (`--count 400000`) takes the import's time and memory, then the demo's own touches
    (weekly hours, a few pending, lapsed or suspended) set-based per chunk."""
    today = today or clock.today_in(UTC)
    rng = random.Random(seed * 7919)  # noqa: S311 demo states drawn from a seed; no secret
    verified_at = datetime.combine(today - timedelta(days=30), time(12), tzinfo=UTC)
    counts = {"listed": 0, "pending": 0, "expired": 0, "suspended": 0}
    writer: bulk.BulkWriter | None = None
    try:
        conn = db.session.connection()
        writer = bulk.BulkWriter(conn, verified=True, now=verified_at, via=DEMO_VIA)
        touched: list[int] = []
        rows = iter_rows(count, seed, today)
        while chunk := list(islice(rows, CHUNK_ROWS)):
            problems = writer.add(writer.chunk([staged(row, verified=True) for row in chunk]), write=True)
            if problems:
                raise ValueError(f"demo rows clash: line {problems[0][0]}: {problems[0][1]}")
            profile_of = writer.profiles(chunk[0].line, chunk[-1].line)
            hours: list[dict] = []
            pending: list[int] = []
            expired: list[dict] = []
            suspended: list[int] = []
            for row in chunk:
                profile_id = profile_of[row.line]
                hours += [{"therapist_id": profile_id, **h} for h in demo_hours(rng)]
                roll = rng.random()
                if roll < 0.04:
                    pending.append(profile_id)
                elif roll < 0.07:
                    expired.append({"profile": profile_id, "lapsed_on": today - timedelta(days=rng.randint(1, 200))})
                elif roll < 0.09:
                    suspended.append(profile_id)
                else:
                    counts["listed"] += 1
            _touch(conn, hours, pending, expired, suspended)
            counts["pending"] += len(pending)
            counts["expired"] += len(expired)
            counts["suspended"] += len(suspended)
            touched += pending + [e["profile"] for e in expired] + suspended
        bulk.refresh_summaries(conn, only=touched)
        writer.discard()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        if writer is not None:
            writer.close()
    if count >= VACUUM_AFTER:
        bulk.vacuum(db.engine)
    return counts


def _touch(conn, hours: list[dict], pending: list[int], expired: list[dict], suspended: list[int]) -> None:
    """The demo's own changes to profiles the chunk just wrote: the credential transitions
    of the models (`submit`), stated as SQL for many rows."""
    lic, profile = table_of(License), table_of(TherapistProfile)
    conn.execute(insert(table_of(WeeklyHours)), hours)
    if pending:
        conn.execute(
            update(lic)
            .where(lic.c.therapist_id.in_(pending))
            .values(
                status=CredentialStatus.PENDING,
                verified_at=None,
                verified_by_id=None,
                verified_via=None,
                rejection_reason=None,
                submitted_at=utcnow(),
            )
        )
    if expired:
        conn.execute(
            update(lic).where(lic.c.therapist_id == bindparam("profile")).values(expires_on=bindparam("lapsed_on")),
            expired,
        )
    if suspended:
        conn.execute(
            update(profile)
            .where(profile.c.id.in_(suspended))
            .values(suspended_at=utcnow(), suspension_reason="Demo: suspended pending a complaint review.")
        )


def therapist_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TherapistProfile)) or 0


def demo_hours(rng: random.Random) -> list[dict]:
    """Realistic weekly hours: most work weekdays, some Saturdays, a few evenings."""
    start, end = rng.choice(((time(9), time(17)), (time(10), time(18)), (time(12), time(20)), (time(8), time(14))))
    days = [0, 1, 2, 3, 4] if rng.random() < 0.7 else [1, 2, 3, 4, 5]
    return [{"weekday": day, "start_time": start, "end_time": end} for day in days]
