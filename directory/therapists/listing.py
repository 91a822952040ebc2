"""The listing summary on each therapist profile, kept true on every flush.

Search reads one row per therapist: `listed_until` (the last day the profile
may be listed), its techniques, verified certifications and prices as short
strings, and the position it may be found at (`shown_latitude` and
`shown_longitude`, see visibility.py). Any change to a profile, license,
certification, technique, price or booking settings, made through the ORM
anywhere in the application, recomputes them in the same transaction, so they
can never lag the rows they summarise.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..matching import summary
from ..models import (
    BookingSettings,
    Certification,
    CredentialStatus,
    License,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    listed_until_of,
)
from . import bulk
from .visibility import shown_position

_CHILDREN = (License, Certification, TherapistTechnique, SessionPrice, BookingSettings)


def summarise(profile: TherapistProfile, removed=frozenset()) -> dict:
    """The summary columns for `profile`, ignoring objects in `removed`."""
    live = lambda items: [i for i in items if i not in removed]
    certs = [(c.slug, c.expires_on) for c in live(profile.certifications) if c.status == CredentialStatus.VERIFIED]
    prices = [(p.minutes, Decimal(p.amount)) for p in live(profile.prices) if p.amount is not None]
    shown_latitude, shown_longitude = shown_position(profile)
    return {
        "shown_latitude": shown_latitude,
        "shown_longitude": shown_longitude,
        "listed_until": listed_until_of(live(profile.licenses), profile.suspended_at),
        "search_techniques": summary.techniques_text(t.technique for t in live(profile.techniques)),
        "search_certifications": summary.certifications_text(certs),
        "search_prices": summary.prices_text(prices),
    }


def refresh(profile: TherapistProfile, removed=frozenset()) -> None:
    for key, value in summarise(profile, removed).items():
        if getattr(profile, key) != value:
            setattr(profile, key, value)


def _touched_profiles(session: Session):
    removed = set(session.deleted)
    profiles = {}
    for obj in list(session.new) + list(session.dirty) + list(removed):
        if isinstance(obj, TherapistProfile):
            if obj not in removed:
                profiles[id(obj)] = obj
        elif isinstance(obj, _CHILDREN):
            profile = obj.therapist
            if profile is None and obj.therapist_id is not None:
                profile = session.get(TherapistProfile, obj.therapist_id)
            if profile is not None and profile not in removed:
                profiles[id(profile)] = profile
                if isinstance(obj, BookingSettings):
                    # The profile's view of its settings may predate this (new or deleted) row.
                    set_committed_value(profile, "booking_settings", None if obj in removed else obj)
    return profiles.values(), removed


def install(session) -> None:
    """Keep the summary on every flush of this session (create_app passes db.session)."""
    if not event.contains(session, "before_flush", _keep_listing_summary):
        event.listen(session, "before_flush", _keep_listing_summary)


def _keep_listing_summary(session: Session, flush_context, instances) -> None:
    profiles, removed = _touched_profiles(session)
    for profile in profiles:
        refresh(profile, frozenset(removed))


def refresh_all(session: Session, batch: int = 10_000) -> int:
    """Recompute every summary (after bulk SQL that bypassed the ORM), set-based in SQL
    (bulk.py), `batch` profiles a statement; the count. Objects already loaded in
    `session` are expired, so they read the new values."""
    session.flush()
    count = bulk.refresh_summaries(session.connection(), batch)
    session.expire_all()
    return count
