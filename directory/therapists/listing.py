"""The listing summary on each therapist profile, kept true on every flush.

Search reads one row per therapist: `listed_until` (the last day the profile
may be listed), and its techniques, verified certifications and prices as
short strings. Any change to a profile, license, certification, technique or
price, made through the ORM anywhere in the application, recomputes them in
the same transaction, so they can never lag the rows they summarise.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from ..matching import summary
from ..models import (
    Certification,
    CredentialStatus,
    License,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    listed_until_of,
)

_CHILDREN = (License, Certification, TherapistTechnique, SessionPrice)


def summarise(profile: TherapistProfile, removed=frozenset()) -> dict:
    """The summary columns for `profile`, ignoring objects in `removed`."""
    live = lambda items: [i for i in items if i not in removed]
    certs = [(c.slug, c.expires_on) for c in live(profile.certifications) if c.status == CredentialStatus.VERIFIED]
    prices = [(p.minutes, Decimal(p.amount)) for p in live(profile.prices) if p.amount is not None]
    return {
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
    return profiles.values(), removed


def install(session) -> None:
    """Keep the summary on every flush of this session (create_app passes db.session)."""
    if not event.contains(session, "before_flush", _keep_listing_summary):
        event.listen(session, "before_flush", _keep_listing_summary)


def _keep_listing_summary(session: Session, flush_context, instances) -> None:
    profiles, removed = _touched_profiles(session)
    for profile in profiles:
        refresh(profile, frozenset(removed))


def refresh_all(session: Session, batch: int = 1000) -> int:
    """Recompute every summary (after bulk SQL that bypassed the ORM); the count."""
    count = 0
    last = 0
    while True:
        profiles = session.scalars(
            select(TherapistProfile)
            .where(TherapistProfile.id > last)
            .order_by(TherapistProfile.id)
            .limit(batch)
            .options(
                selectinload(TherapistProfile.licenses),
                selectinload(TherapistProfile.certifications),
                selectinload(TherapistProfile.techniques),
                selectinload(TherapistProfile.prices),
            )
        ).all()
        if not profiles:
            return count
        for profile in profiles:
            refresh(profile)
        session.flush()
        count += len(profiles)
        last = profiles[-1].id
