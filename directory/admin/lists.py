"""The admin lists: search, filters and pages for the queue, therapists, the
audit log, bookings and reviews.

Each list takes one `ListQuery` (plain values, parsed by admin/forms.py) and
answers one `Page`. A page costs a fixed number of queries whatever its size:
a count, the page's rows, and one query per relation it shows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Certification,
    CredentialStatus,
    License,
    Review,
    TherapistProfile,
    User,
)
from ..registry.evidence import Evidence, LicenseFacts, evidence_for

PER_PAGE = 25


@dataclass(frozen=True)
class ListQuery:
    """What an admin asked a list for; empty means "any"."""

    text: str = ""
    state: str = ""
    kind: str = ""
    age: str = ""
    status: str = ""
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, text: str):
    return func.lower(column).like(_like(text), escape="\\")


def _page_of(stmt: Select, q: ListQuery) -> Page:
    """Count, then the page's rows (a page past the end shows the last one)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(q.page, 1), max(1, math.ceil(total / q.per_page)))
    items = list(db.session.scalars(stmt.limit(q.per_page).offset((page - 1) * q.per_page)))
    return Page(items, total, page, q.per_page)


def _days_ago(days: int, now: datetime | None = None) -> datetime:
    return (now or clock.now()) - timedelta(days=days)


# The verification queue ------------------------------------------------------------

QUEUE_KINDS = {"license": "Licenses", "certification": "Certifications"}
QUEUE_STATUSES = {s.value: s.value.capitalize() for s in CredentialStatus}
QUEUE_AGES = {"new": "Sent in the last 2 days", "7": "Waiting over 7 days", "30": "Waiting over 30 days"}


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "license" or "certification"
    credential: Any  # License or Certification
    evidence: Evidence | None = None  # licenses only

    @property
    def therapist(self) -> TherapistProfile:
        return self.credential.therapist

    @property
    def subject(self) -> str:
        """Whose and what, for button names: "Maria Garcia's license IL 12345"."""
        c = self.credential
        if self.kind == "license":
            return f"{c.therapist.name}'s license {c.state} {c.number}"
        return f"{c.therapist.name}'s {c.slug.replace('_', ' ')} certification"


def _queue_branch(kind: str, model, q: ListQuery, now: datetime):
    P = TherapistProfile
    stmt = select(
        literal(kind, String(20)).label("kind"),
        model.id.label("id"),
        model.submitted_at.label("submitted_at"),
    ).where(model.status == CredentialStatus(q.status or "pending"))
    if q.text:
        own = [model.number, model.state] if model is License else [model.slug, model.issuer]
        people = select(P.id).join(User, User.id == P.user_id)
        people = people.where(or_(_contains(P.name, q.text), _contains(User.email, q.text)))
        stmt = stmt.where(or_(model.therapist_id.in_(people), *(_contains(c, q.text) for c in own)))
    if q.state:
        in_state = (
            model.state == q.state
            if model is License
            else model.therapist_id.in_(select(P.id).where(P.state == q.state))
        )
        stmt = stmt.where(in_state)
    if q.age == "new":
        stmt = stmt.where(model.submitted_at >= _days_ago(2, now))
    elif q.age.isdigit():
        stmt = stmt.where(model.submitted_at < _days_ago(int(q.age), now))
    return stmt


def verification_page(q: ListQuery, now: datetime | None = None) -> Page:
    """Credentials by status (pending by default: oldest first; decided: newest first), with the
    registry's evidence beside each license."""
    now = now or clock.now()
    branches = [_queue_branch(k, m, q, now) for k, m in (("license", License), ("certification", Certification))]
    if q.kind in QUEUE_KINDS:
        branches = [branches[0 if q.kind == "license" else 1]]
    both = union_all(*branches).subquery()
    total = db.session.scalar(select(func.count()).select_from(both)) or 0
    page = min(max(q.page, 1), max(1, math.ceil(total / q.per_page)))
    oldest_first = (q.status or "pending") == "pending"
    order = both.c.submitted_at.asc() if oldest_first else both.c.submitted_at.desc()
    rows = db.session.execute(
        select(both.c.kind, both.c.id)
        .order_by(order, both.c.kind, both.c.id)
        .limit(q.per_page)
        .offset((page - 1) * q.per_page)
    ).all()
    loaded = {
        kind: _credentials(model, [r.id for r in rows if r.kind == kind])
        for kind, model in (
            ("license", License),
            ("certification", Certification),
        )
    }
    facts = [
        LicenseFacts(lic.id, lic.therapist.name, lic.therapist.npi, lic.state, lic.number)
        for lic in loaded["license"].values()
    ]
    evidence = evidence_for(facts) if facts else {}
    items = [QueueItem(r.kind, loaded[r.kind][r.id], evidence.get(r.id) if r.kind == "license" else None) for r in rows]
    return Page(items, total, page, q.per_page)


def _credentials(model, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    found = db.session.scalars(
        select(model)
        .where(model.id.in_(ids))
        .options(
            selectinload(model.therapist).selectinload(TherapistProfile.user),
            selectinload(model.document),
            selectinload(model.verified_by),
        )
    )
    return {c.id: c for c in found}


# Therapists ------------------------------------------------------------------------

THERAPIST_STATUSES = {
    "listed": "Listed",
    "pending": "Waiting for checking",
    "suspended": "Suspended",
    "expired": "License expired",
    "rejected": "License rejected",
    "unlicensed": "No license on file",
}
THERAPIST_KINDS = {"license": "Holds a state license", "credential": "Holds another credential (no-license state)"}
THERAPIST_AGES = {"7": "Joined in the last 7 days", "30": "Joined in the last 30 days", "old": "Joined over a year ago"}


def therapist_page(q: ListQuery, at: datetime | None = None) -> Page:
    P = TherapistProfile
    at = at or clock.now()
    stmt = select(P).join(User, User.id == P.user_id).options(selectinload(P.licenses), selectinload(P.user))
    has = lambda *cond: P.id.in_(select(License.therapist_id).where(*cond))
    if q.text:
        stmt = stmt.where(
            or_(
                _contains(P.name, q.text),
                _contains(User.email, q.text),
                P.npi == q.text.strip(),
                has(_contains(License.number, q.text)),
            )
        )
    if q.state:
        stmt = stmt.where(or_(P.state == q.state, has(License.state == q.state)))
    if q.kind == "license":
        stmt = stmt.where(has(License.credential.is_(None)))
    elif q.kind == "credential":
        stmt = stmt.where(has(License.credential.is_not(None)))
    if q.age == "old":
        stmt = stmt.where(P.created_at < _days_ago(365))
    elif q.age.isdigit():
        stmt = stmt.where(P.created_at >= _days_ago(int(q.age)))
    status_filter = {
        "listed": lambda: P.listable_clause(at),
        "suspended": lambda: P.suspended_at.is_not(None),
        "pending": lambda: or_(
            has(License.status == CredentialStatus.PENDING),
            P.id.in_(select(Certification.therapist_id).where(Certification.status == CredentialStatus.PENDING)),
        ),
        "expired": lambda: and_(
            has(or_(License.status == CredentialStatus.EXPIRED, License.expires_on < clock.listing_days(at).latest)),
            ~P.listable_clause(at),
        ),
        "rejected": lambda: has(License.status == CredentialStatus.REJECTED),
        "unlicensed": lambda: ~P.id.in_(select(License.therapist_id)),
    }.get(q.status)
    if status_filter is not None:
        stmt = stmt.where(status_filter())
    return _page_of(stmt.order_by(P.name, P.id), q)


# The audit log ---------------------------------------------------------------------

AUDIT_KINDS = {
    "decisions": "Verification decisions",
    "suspensions": "Suspensions",
    "reviews": "Hidden reviews",
    "roles": "Role changes",
    "logins": "Admin sign-ins",
    "expiry": "Expired licenses",
}
_AUDIT_ACTIONS = {
    "decisions": ("license_approved", "license_rejected", "certification_approved", "certification_rejected"),
    "suspensions": ("suspended", "unsuspended"),
    "reviews": ("review_hidden",),
    "roles": ("role_changed",),
    "logins": ("admin_login",),
    "expiry": ("license_expired",),
}
RECENT_AGES = {"1": "Last 24 hours", "7": "Last 7 days", "30": "Last 30 days", "365": "Last 12 months"}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    changes: list[Change]


FIELD_LABELS = {
    "status": "Status",
    "verified_at": "Verified at",
    "verified_by_id": "Verified by",
    "rejection_reason": "Reason for rejection",
    "suspended_at": "Suspended at",
    "suspension_reason": "Reason for suspension",
    "role": "Role",
    "hidden_at": "Hidden at",
    "hidden_reason": "Reason for hiding",
}


def _readable(key: str, value: Any, people: dict[int, str]) -> str:
    if value is None or value == "":
        return "none"
    if key.endswith("_by_id") and isinstance(value, int):
        return people.get(value, f"account #{value} (deleted)")
    if key.endswith("_at") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            return value
    return str(value)


def _parse(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def describe_changes(before: str | None, after: str | None, people: dict[int, str] | None = None) -> list[Change]:
    """What an entry changed, field by field, in words: unchanged fields are left out."""
    people = people or {}
    old, new = _parse(before), _parse(after)
    changes = []
    for key in list(dict.fromkeys([*old, *new])):
        if old.get(key) == new.get(key) and before is not None:
            continue
        label = FIELD_LABELS.get(key, key.replace("_", " ").capitalize())
        changes.append(
            Change(
                label,
                _readable(key, old.get(key), people) if before is not None else "",
                _readable(key, new.get(key), people) if after is not None else "",
            )
        )
    return changes


def audit_page(q: ListQuery) -> Page:
    E = AuditEntry
    stmt = select(E).order_by(E.at.desc(), E.id.desc())
    if q.text:
        stmt = stmt.where(or_(*(_contains(c, q.text) for c in (E.actor_label, E.subject_label, E.note, E.action))))
    if q.kind in _AUDIT_ACTIONS:
        stmt = stmt.where(E.action.in_(_AUDIT_ACTIONS[q.kind]))
    if q.age.isdigit():
        stmt = stmt.where(E.at >= _days_ago(int(q.age)))
    page = _page_of(stmt, q)
    ids: set[int] = set()
    for entry in page.items:
        for data in (_parse(entry.before), _parse(entry.after)):
            ids.update(v for k, v in data.items() if k.endswith("_by_id") and isinstance(v, int))
    people = {}
    if ids:
        people = {u.id: f"{u.name} <{u.email}>" for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    page.items = [AuditRow(e, describe_changes(e.before, e.after, people)) for e in page.items]
    return page


# Bookings and reviews --------------------------------------------------------------

BOOKING_STATUSES = {s.value: s.value.replace("_", "-").capitalize() for s in BookingStatus}
BOOKING_KINDS = {str(m): f"{m} minutes" for m in (30, 45, 60, 90)}
BOOKING_AGES = {"upcoming": "Upcoming", "7": "In the last 7 days", "30": "In the last 30 days"}


def booking_page(q: ListQuery) -> Page:
    """Booking metadata only (never an intake), with each booking's therapist and client loaded for the page."""
    P = TherapistProfile
    client = select(User.id).where(or_(_contains(User.email, q.text), _contains(User.name, q.text)))
    stmt = (
        select(Booking)
        .join(P, P.id == Booking.therapist_id)
        .options(selectinload(Booking.therapist), selectinload(Booking.client))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    )
    if q.text:
        stmt = stmt.where(or_(_contains(P.name, q.text), Booking.client_id.in_(client)))
    if q.state:
        stmt = stmt.where(P.state == q.state)
    if q.status in BOOKING_STATUSES:
        stmt = stmt.where(Booking.status == BookingStatus(q.status))
    if q.kind in BOOKING_KINDS:
        stmt = stmt.where(Booking.minutes == int(q.kind))
    now = clock.now()
    if q.age == "upcoming":
        stmt = stmt.where(Booking.starts_at >= now)
    elif q.age.isdigit():
        stmt = stmt.where(Booking.starts_at >= _days_ago(int(q.age), now), Booking.starts_at < now)
    return _page_of(stmt, q)


REVIEW_STATUSES = {"visible": "Shown", "hidden": "Hidden"}
REVIEW_KINDS = {"low": "1 or 2 stars", "mid": "3 stars", "high": "4 or 5 stars"}
_RATINGS = {"low": (1, 2), "mid": (3, 3), "high": (4, 5)}


def review_page(q: ListQuery) -> Page:
    P = TherapistProfile
    stmt = (
        select(Review)
        .join(P, P.id == Review.therapist_id)
        .options(selectinload(Review.booking).selectinload(Booking.therapist))
        .order_by(Review.created_at.desc(), Review.id.desc())
    )
    if q.text:
        stmt = stmt.where(or_(*(_contains(c, q.text) for c in (Review.text, Review.author_name, P.name))))
    if q.state:
        stmt = stmt.where(P.state == q.state)
    if q.status == "hidden":
        stmt = stmt.where(Review.hidden_at.is_not(None))
    elif q.status == "visible":
        stmt = stmt.where(Review.hidden_at.is_(None))
    if q.kind in _RATINGS:
        low, high = _RATINGS[q.kind]
        stmt = stmt.where(Review.rating.between(low, high))
    if q.age.isdigit():
        stmt = stmt.where(Review.created_at >= _days_ago(int(q.age)))
    return _page_of(stmt, q)
