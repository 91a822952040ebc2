"""Typed SQLAlchemy 2.0 models: accounts, therapist profiles and credentials."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    and_,
    event,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, validates

from . import clock
from .clock import DEFAULT_TIMEZONE, zone_named
from .extensions import Model
from .matching import summary

# Every default time of a row is this moment, aware, in UTC (clock.py holds the rule).
utcnow = clock.now


class UTCDateTime(TypeDecorator):
    """A moment in time, stored in UTC and always handed back aware.

    PostgreSQL keeps the offset; SQLite keeps naive text. Either way a value
    leaves the database as an aware UTC datetime, and a naive one is refused on
    the way in rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give times with a time zone (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Role(enum.StrEnum):
    CLIENT = "client"
    THERAPIST = "therapist"
    ADMIN = "admin"


class CredentialStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"


def _enum(cls, name):
    return Enum(
        cls,
        name=name,
        native_enum=False,
        validate_strings=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Null for therapists created by an import who have not yet set a password.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.CLIENT)
    name: Mapped[str] = mapped_column(String(120), default="")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every session's user id (get_id): a new token ends every session
    # of this user on every device, remember-me cookies included.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    therapist: Mapped[TherapistProfile | None] = relationship(back_populates="user")

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie."""
        if not self.session_token:
            self.session_token = new_session_token()
        return f"{self.id}.{self.session_token}"

    def end_sessions(self) -> None:
        """Sign this user out everywhere; pending emailed links die with it (they carry a
        fingerprint of the token). Security events call auth/revocation.py, which does
        this and more; a new password does it itself."""
        self.session_token = new_session_token()

    @validates("password_hash")
    def _new_password_ends_sessions(self, _key, value):
        if value != self.password_hash:
            self.end_sessions()
        return value

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class TherapistProfile(Model):
    __tablename__ = "therapist_profiles"
    __table_args__ = (
        # Radius search reads a latitude/longitude box. The index carries every
        # column the search needs, so it never visits the table (index-only scan).
        Index(
            "ix_therapist_profiles_search",
            "shown_latitude",
            "shown_longitude",
            "listed_until",
            "id",
            "search_techniques",
            "search_certifications",
            "search_prices",
            "gender",
            "languages",
            "hsa_fsa",
            "accepting_new_clients",
            "mobile_radius_miles",
            "years_experience",
            "rating_count",
            "rating_average",
        ),
        # NPIs are unique among the profiles that have one; most have none, and a partial index
        # spends nothing on them (an import writes hundreds of thousands of profiles at once).
        Index(
            "uq_therapist_profiles_npi",
            "npi",
            unique=True,
            postgresql_where=text("npi IS NOT NULL"),
            sqlite_where=text("npi IS NOT NULL"),
        ),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("mobile_radius_miles IS NULL OR mobile_radius_miles >= 0", name="mobile_radius"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    bio: Mapped[str] = mapped_column(Text, default="")
    gender: Mapped[str | None] = mapped_column(String(20))
    languages: Mapped[str] = mapped_column(String(200), default="en")  # ISO 639-1, ';'-separated
    years_experience: Mapped[int | None] = mapped_column(Integer)
    hsa_fsa: Mapped[bool] = mapped_column(default=False)
    accepting_new_clients: Mapped[bool] = mapped_column(default=True)
    mobile_radius_miles: Mapped[float | None] = mapped_column(Float)

    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="", index=True)
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    # Empty until the therapist gives a practice location; search skips such profiles.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_label: Mapped[str] = mapped_column(String(200), default="")
    # The position search measures from and the feeds publish: the one above, or for a
    # practice that shows only its area, the centre of the area's cell. Kept with the
    # listing summary by therapists/visibility.py, the one rule of what may leave the site.
    shown_latitude: Mapped[float | None] = mapped_column(Float)
    shown_longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64))
    photo: Mapped[str | None] = mapped_column(String(80))  # stored file name, outside static/
    # National Provider Identifier, optional (many cash practices have none); checked against the NPPES registry.
    npi: Mapped[str | None] = mapped_column(String(10))

    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # The listing summary, kept by directory/therapists/listing.py on every flush
    # that touches the profile or its credentials, so the search reads one row:
    # the last day the profile may be listed (latest verified license expiry,
    # none when suspended or unlicensed), and its techniques, verified
    # certifications ("slug" or "slug@expiry") and prices ("60:95.00").
    listed_until: Mapped[date | None] = mapped_column(Date)
    search_techniques: Mapped[str] = mapped_column(String(200), default="")
    search_certifications: Mapped[str] = mapped_column(String(200), default="")
    search_prices: Mapped[str] = mapped_column(String(100), default="")
    # Visible reviews: kept by the reviews service, read by search for ranking.
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_average: Mapped[float | None] = mapped_column(Float)

    user: Mapped[User] = relationship(back_populates="therapist")
    licenses: Mapped[list[License]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="License.id"
    )
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="Certification.slug"
    )
    techniques: Mapped[list[TherapistTechnique]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="TherapistTechnique.technique"
    )
    prices: Mapped[list[SessionPrice]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="SessionPrice.minutes"
    )
    # Read here; written by bookings/services.py only.
    booking_settings: Mapped[BookingSettings | None] = relationship(viewonly=True, uselist=False)

    @property
    def language_codes(self) -> list[str]:
        return list(summary.parse_languages(self.languages))

    @property
    def technique_slugs(self) -> list[str]:
        return [t.technique for t in self.techniques]

    @property
    def price_by_minutes(self) -> dict[int, Decimal]:
        return {p.minutes: p.amount for p in self.prices}

    @property
    def current_license(self) -> License | None:
        """The verified, unexpired license if there is one, else the newest."""
        usable = [lic for lic in self.licenses if lic.is_current]
        if usable:
            return max(usable, key=lambda lic: lic.expires_on)
        return self.licenses[-1] if self.licenses else None

    @property
    def verified_certifications(self) -> list[Certification]:
        return [c for c in self.certifications if c.is_current]

    @property
    def is_listable(self) -> bool:
        """Listed and matched now: see `listed_until_of`, the one rule, and
        clock.listing_day: the latest license's date has not ended in the zone of
        the practice's state."""
        until = listed_until_of(self.licenses, self.suspended_at)
        return until is not None and until >= clock.listing_day(self.state)

    @classmethod
    def listable_clause(cls, at: datetime | None = None):
        """SQL for `is_listable` at a moment (now when not given), over the `listed_until`
        column that the listing summary keeps (therapists/listing.py) with the same rule.

        Expiry is judged by the clock here, so a lapsed license leaves the directory
        as its date ends in its state whether or not any job has run.
        """
        days = clock.listing_days(at)
        if not days.behind:
            return cls.listed_until >= days.latest
        return cls.listed_on(days.latest, days.earliest, days.behind)

    @classmethod
    def listed_on(cls, latest, earliest, behind):
        """The SQL of clock.ListingDays.day_of: listed through `latest`, or through `earliest`
        in the states `behind` (values or bind parameters)."""
        return or_(cls.listed_until >= latest, and_(cls.listed_until >= earliest, cls.state.in_(behind)))

    @property
    def zone(self) -> ZoneInfo:
        """The practice's time zone: weekly hours and booking times are read in it."""
        return zone_named(self.timezone)


def listed_until_of(licenses, suspended_at) -> date | None:
    """The last day a profile may be listed and matched: the latest expiry of a
    verified license, or None when suspended or holding none. A profile is
    listable on day D when this is D or later."""
    if suspended_at is not None:
        return None
    expiries = [lic.expires_on for lic in licenses if lic.status == CredentialStatus.VERIFIED]
    return max(expiries) if expiries else None


class _Credential:
    """The verification columns and rules shared by licenses and certifications."""

    expires_on: Mapped[date | None]
    status: Mapped[CredentialStatus] = mapped_column(
        _enum(CredentialStatus, "credential_status"), default=CredentialStatus.PENDING
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How the check was made when no admin made it, e.g. "bulk import".
    verified_via: Mapped[str | None] = mapped_column(String(40))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))

    @declared_attr
    def verified_by(cls) -> Mapped[User | None]:
        return relationship("User")

    @declared_attr
    def document(cls) -> Mapped[Document | None]:
        return relationship("Document")

    @property
    def is_current(self) -> bool:
        return self.status == CredentialStatus.VERIFIED and self.holds_now()

    def holds_now(self) -> bool:
        raise NotImplementedError

    def submit(self) -> None:
        """(Re)submitted: waits for an administrator, whatever it was before."""
        self.status = CredentialStatus.PENDING
        self.verified_at = self.verified_by_id = self.verified_via = None
        self.rejection_reason = None
        self.submitted_at = utcnow()

    def verify(self, *, by: User | None = None, via: str | None = None, at: datetime | None = None) -> None:
        """Verified by an administrator (`by`) or by another check (`via`, e.g. "bulk import")."""
        self.status = CredentialStatus.VERIFIED
        self.verified_at = at or utcnow()
        self.verified_by_id = by.id if by is not None else None
        self.verified_via = None if by is not None else via
        self.rejection_reason = None

    def reject(self, reason: str) -> None:
        self.status, self.rejection_reason = CredentialStatus.REJECTED, reason
        self.verified_at = self.verified_by_id = self.verified_via = None

    def expire(self) -> None:
        self.status = CredentialStatus.EXPIRED

    def snapshot(self) -> dict:
        """The verification state, as the audit log records it before and after a change."""
        return {
            "status": self.status.value,
            "verified_at": self.verified_at,
            "verified_by_id": self.verified_by_id,
            "rejection_reason": self.rejection_reason,
        }

    @property
    def display_status(self) -> CredentialStatus:
        if self.status == CredentialStatus.VERIFIED and not self.is_current:
            return CredentialStatus.EXPIRED
        return self.status


class License(_Credential, Model):
    __tablename__ = "licenses"
    __table_args__ = (UniqueConstraint("state", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(2))
    expires_on: Mapped[date] = mapped_column(Date)
    # In a state that issues no massage license (domain: KS, MN, WY, VT, CA) the
    # therapist submits the credential they hold instead; `credential` names it.
    credential: Mapped[str | None] = mapped_column(String(40))
    # Expiry reminders already sent (each is sent once).
    reminded_30_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_7_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    therapist: Mapped[TherapistProfile] = relationship(back_populates="licenses")

    def holds_now(self) -> bool:
        """Until the end of its date in its state's zone (clock.license_end)."""
        return clock.license_holds(self)


class Certification(_Credential, Model):
    __tablename__ = "certifications"
    # The unique index leads with therapist_id, so it also finds a therapist's certifications.
    __table_args__ = (UniqueConstraint("therapist_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str | None] = mapped_column(String(120))
    expires_on: Mapped[date | None] = mapped_column(Date)

    therapist: Mapped[TherapistProfile] = relationship(back_populates="certifications")

    def holds_now(self) -> bool:
        """Until the end of its date on the day the therapist's profile is listed by."""
        return self.expires_on is None or self.expires_on >= clock.listing_day(self.therapist.state)


class TherapistTechnique(Model):
    __tablename__ = "therapist_techniques"

    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True)
    technique: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    therapist: Mapped[TherapistProfile] = relationship(back_populates="techniques")


class SessionPrice(Model):
    __tablename__ = "session_prices"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("minutes IN (30, 45, 60, 90)", name="minutes_offered"),
    )

    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(8, 2))

    therapist: Mapped[TherapistProfile] = relationship(back_populates="prices")


class Document(Model):
    """An uploaded credential document: stored outside static/, served only to
    its owner and to admins."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()


class ProfileStat(Model):
    """Daily counts per profile: shown in search results, and opened."""

    __tablename__ = "profile_stats"

    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Model):
    """Who did what, when, with the values before and after. Append-only: the
    application has no path that edits or deletes an entry (see audit.py)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))  # kept even if the account goes
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    subject_label: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"  # confirmed, and the client never came
    EXPIRED = "expired"  # a request nobody answered before its time


class WeeklyHours(Model):
    """When a therapist works, in their own time zone: one row per time range, as
    many ranges a weekday as they like (bookings/services.py keeps them apart)."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class TimeOff(Model):
    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")


# The exclusion constraint on bookings compares integers in a GiST index.
event.listen(
    Model.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)

# The booking states that hold the therapist's time.
ACTIVE_BOOKING_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
ACTIVE_BOOKING_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in ACTIVE_BOOKING_STATUSES) + ")"


class Booking(Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        Index("ix_bookings_therapist_start", "therapist_id", "starts_at"),
        # PostgreSQL itself refuses two active bookings of one therapist whose
        # times overlap, whatever grid they are on (btree_gist gives integers a
        # GiST operator class). SQLite relies on booking_slots' primary key.
        ExcludeConstraint(
            ("therapist_id", "="),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_bookings_therapist_time",
            using="gist",
            where=text(ACTIVE_BOOKING_SQL),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"))
    # Null once the client deletes their account: the therapist keeps the record.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    price_amount: Mapped[Decimal] = mapped_column(Numeric(8, 2))  # as priced when booked
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus, "booking_status"), default=BookingStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    therapist_message: Mapped[str | None] = mapped_column(Text)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The therapist's buffer after this session, held in booking_slots with it.
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Each change of time or status a calendar must follow raises it (RFC 5545 SEQUENCE).
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # The scheduled mails, each claimed once (bookings/reminders.py): the day-before
    # reminder and, after a completed visit, "How was your visit?".
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_prompted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Every transition (booking_states.py) is a compare-and-set on status and version,
    # and names itself here, so the loser of a race is told what happened.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_change: Mapped[str | None] = mapped_column(String(20))

    therapist: Mapped[TherapistProfile] = relationship()
    client: Mapped[User | None] = relationship()
    intake: Mapped[Intake | None] = relationship(back_populates="booking", cascade="all, delete-orphan", uselist=False)
    slots: Mapped[list[BookingSlot]] = relationship(cascade="all, delete-orphan")
    review: Mapped[Review | None] = relationship(back_populates="booking", uselist=False)
    # The database deletes a booking's receipt with it (ON DELETE CASCADE).
    receipt: Mapped[Receipt | None] = relationship(back_populates="booking", uselist=False, passive_deletes=True)

    @property
    def holds_time(self) -> bool:
        return self.status in ACTIVE_BOOKING_STATUSES


class BookingSlot(Model):
    """The quarter hours a pending or confirmed booking holds. The primary key
    makes the database itself refuse two bookings of one therapist that overlap."""

    __tablename__ = "booking_slots"

    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)


class Intake(Model):
    """Health details a client shares with one therapist for one booking: shown
    only to that client and that therapist, never to admins, never logged."""

    __tablename__ = "intakes"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    concerns: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(String(300), default="")  # slugs, ';'-separated
    conditions: Mapped[str] = mapped_column(String(300), default="")  # slugs, ';'-separated
    medications: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[str] = mapped_column(Text, default="")

    booking: Mapped[Booking] = relationship(back_populates="intake")

    def __repr__(self) -> str:  # never let health details reach a log or error report
        return f"<Intake booking={self.booking_id}>"


class BookingSettings(Model):
    """A therapist's booking policies and calendar, written by bookings/services.py."""

    __tablename__ = "booking_settings"
    __table_args__ = (
        CheckConstraint("notice_hours BETWEEN 0 AND 168", name="notice_range"),
        CheckConstraint("buffer_minutes IN (0, 15, 30, 45, 60)", name="buffer_on_grid"),
    )

    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True)
    # How long before a session a client may still cancel or move it online.
    notice_hours: Mapped[int] = mapped_column(Integer, default=0)
    # Free time kept after each session (on the quarter-hour grid).
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # A therapist working from home may show only the area until a booking is confirmed.
    address_after_confirmation: Mapped[bool] = mapped_column(default=False)
    # The number a client with a confirmed booking may call.
    phone: Mapped[str] = mapped_column(String(30), default="")
    # The secret part of the private iCal feed's address; a new one revokes the old,
    # and every security event clears it (auth/revocation.py).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    therapist: Mapped[TherapistProfile] = relationship()


class BookingMessage(Model):
    """A message between the client and the therapist about one booking: shown to
    those two only, never quoted in mail (it may hold health details)."""

    __tablename__ = "booking_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    side: Mapped[str] = mapped_column(String(20))  # 'client' or 'therapist'
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never let a message reach a log
        return f"<BookingMessage {self.id} booking={self.booking_id}>"


class BookingDraft(Model):
    """A booking form kept while its visitor signs in or creates an account.

    Found by the digest of a random key held in the visitor's session cookie;
    the health details themselves never leave the server. Removed once the
    booking is sent, and by the hourly job once older than DRAFT_HOURS."""

    __tablename__ = "booking_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    concerns: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(String(300), default="")
    conditions: Mapped[str] = mapped_column(String(300), default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:  # never let health details reach a log
        return f"<BookingDraft {self.id} therapist={self.therapist_id}>"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def key_is(cls, key: str):
        """SQL: the draft found by this key (only its digest is stored)."""
        return cls.key_digest == cls.digest(key)


class Review(Model):
    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120))
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship(back_populates="review")


class OutcomeRating(Model):
    """A client's 0-10 rating of one goal of a visit (matching/outcomes.py): `pre` when
    they request it, `post` a day after. Health details: shown to that client; counted
    in a therapist's results only with `consent`, anonymously, and never over fewer
    than ten clients. Written by outcome_ratings.py alone."""

    __tablename__ = "outcome_ratings"
    __table_args__ = (
        UniqueConstraint("booking_id", "goal"),  # one pair of ratings per goal per visit
        CheckConstraint("pre BETWEEN 0 AND 10", name="pre_range"),
        CheckConstraint("post IS NULL OR post BETWEEN 0 AND 10", name="post_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    goal: Mapped[str] = mapped_column(String(40), index=True)
    pre: Mapped[int] = mapped_column(Integer)
    post: Mapped[int | None] = mapped_column(Integer)
    consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship()

    def __repr__(self) -> str:  # never let a rating reach a log
        return f"<OutcomeRating booking={self.booking_id} goal={self.goal}>"


class GeocodeCacheEntry(Model):
    """Answers of an online geocoder, kept so each place is asked for once."""

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    query: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "query"),)


class RegistrySnapshot(Model):
    """One import of the NPPES registry file: its name, its date, what it held.
    The newest is the one the registry tables hold now (each import replaces them)."""

    __tablename__ = "registry_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_date: Mapped[date] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    providers: Mapped[int] = mapped_column(Integer, default=0)


class RegistryProvider(Model):
    """A massage therapist (taxonomy 225700000X) in the latest NPPES snapshot."""

    __tablename__ = "registry_providers"

    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(40), default="")  # practice location state

    licenses: Mapped[list[RegistryLicense]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="RegistryLicense.slot"
    )


class RegistryLicense(Model):
    """A license an NPPES record lists (slot 1 to 15), found by state and normalised number."""

    __tablename__ = "registry_licenses"
    __table_args__ = (Index("ix_registry_licenses_lookup", "state", "number_key"),)

    npi: Mapped[str] = mapped_column(ForeignKey("registry_providers.npi", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(2), default="")
    number: Mapped[str] = mapped_column(String(40))
    number_key: Mapped[str] = mapped_column(String(40))  # upper case, letters and digits only
    taxonomy: Mapped[str] = mapped_column(String(10), default="")

    provider: Mapped[RegistryProvider] = relationship(back_populates="licenses")


class Receipt(Model):
    """The itemized receipt of a completed visit, for an HSA or FSA claim.

    The therapist's details are copied as they stood when the visit was
    completed, so a later change of address or license never rewrites a receipt
    already handed in; the client's name is read from the account (a deleted
    account leaves "Former client")."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint("amount_paid >= 0", name="amount_paid_not_negative"),
        CheckConstraint("tip_amount >= 0", name="tip_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    tip_amount: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    technique: Mapped[str] = mapped_column(String(40))
    therapist_name: Mapped[str] = mapped_column(String(120))
    practice_address: Mapped[str] = mapped_column(String(300), default="")
    license_state: Mapped[str | None] = mapped_column(String(2))
    license_number: Mapped[str | None] = mapped_column(String(40))
    license_credential: Mapped[str | None] = mapped_column(String(40))
    npi: Mapped[str | None] = mapped_column(String(10))
    visit_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    visit_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)

    booking: Mapped[Booking] = relationship(back_populates="receipt")

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.timezone)

    @property
    def visit_day(self) -> date:
        """The visit's day in the therapist's zone, as clock.visit_day: its year is the receipt's."""
        return clock.local_day(self.visit_starts_at, self.zone)


class MedicalNecessityLetter(Model):
    """A client's letter of medical necessity: private like an intake, shown to
    no one but that client. The file is kept in the row itself, so deleting the
    account (or the letter) leaves nothing behind."""

    __tablename__ = "medical_necessity_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    expires_on: Mapped[date] = mapped_column(Date)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def covers(self, day: date) -> bool:
        return self.expires_on >= day

    def __repr__(self) -> str:  # never let a health document reach a log
        return f"<MedicalNecessityLetter client={self.client_id}>"


__all__ = [
    "Role",
    "CredentialStatus",
    "User",
    "TherapistProfile",
    "License",
    "Certification",
    "TherapistTechnique",
    "SessionPrice",
    "GeocodeCacheEntry",
    "Document",
    "ProfileStat",
    "AuditEntry",
    "BookingStatus",
    "WeeklyHours",
    "TimeOff",
    "Booking",
    "BookingSlot",
    "Intake",
    "BookingSettings",
    "BookingMessage",
    "BookingDraft",
    "Review",
    "RegistrySnapshot",
    "RegistryProvider",
    "RegistryLicense",
    "Receipt",
    "MedicalNecessityLetter",
    "utcnow",
]


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxJob(Model):
    """A mail or job, written in the same transaction as the change it announces (the
    transactional outbox, see outbox.py): claimed by one worker at a time, retried with
    backoff, sent once. `key` is its idempotency key; `topic` groups the notices that
    fold into one (a thread's message notices). A mail's text never holds health details;
    `last_error` is the error's kind only."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status_known"),
        Index("ix_outbox_jobs_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))  # the Celery task that runs it
    args: Mapped[list] = mapped_column(JSON)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    topic: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it is due; while it is being sent, when its claim lapses (a worker that died).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # "host:pid" of the worker
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never a letter's text in a log
        return f"<OutboxJob {self.id} {self.name} {self.status}>"
