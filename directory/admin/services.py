"""Admin rules: verification decisions, suspensions, admin accounts, expiry (the lists are in lists.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, booking_states, clock, notifications, outbox
from ..auth.passwords import hash_password, password_problem
from ..auth.revocation import revoke_access
from ..auth.services import find_user, normalise_email
from ..extensions import db
from ..models import (
    Certification,
    CredentialStatus,
    License,
    OutboxJob,
    Role,
    TherapistProfile,
    User,
    utcnow,
)
from ..service_errors import Conflict, Forbidden, NotFound, ServiceError
from ..therapists.profiles import set_suspension as write_suspension

REMINDER_DAYS = (30, 7)


def _credential_model(kind: str):
    return {"license": License, "certification": Certification}.get(kind)


def _label(kind: str, credential) -> str:
    who = credential.therapist.name
    if kind == "license":
        return f"{who}: license {credential.state} {credential.number}"
    return f"{who}: certification {credential.slug}"


def decide(admin: User, kind: str, credential_id: int, *, approve: bool, reason: str = ""):
    """Approve, or reject with a reason; audited in the same transaction. The credential."""
    model = _credential_model(kind)
    credential = db.session.get(model, credential_id) if model else None
    if credential is None:
        raise NotFound(f"No {kind} with id {credential_id}.")
    if credential.therapist.user_id == admin.id:
        raise Forbidden("You cannot decide on your own credentials: another administrator must.")
    if credential.status != CredentialStatus.PENDING:
        raise Conflict(f"This {kind} was already decided ({credential.status.value}).")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ServiceError("Give the reason for the rejection: the therapist will read it.", field="reason")
    before = credential.snapshot()
    if approve:
        credential.verify(by=admin)
    else:
        credential.reject(reason)
    with booking_states.settling():
        if not approve and not credential.therapist.is_listable:  # a rejection that delists settles its bookings
            booking_states.settle_delisted(credential.therapist)
        _audit_decision(admin, kind, credential, before, approve, reason)
        notifications.credential_decided(kind, credential)  # the therapist is told, with the decision
    return credential


def _audit_decision(admin: User, kind: str, credential, before: dict, approve: bool, reason: str) -> None:
    audit.record(
        admin,
        f"{kind}_{'approved' if approve else 'rejected'}",
        kind,
        credential.id,
        subject_label=_label(kind, credential),
        before=before,
        after=credential.snapshot(),
        note=reason or None,
    )


def set_suspension(admin: User, profile: TherapistProfile, *, suspend: bool, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give the reason: it is kept in the audit log.", field="reason")
    if suspend == (profile.suspended_at is not None):
        raise Conflict("This therapist is already suspended." if suspend else "This therapist is not suspended.")
    before = {"suspended_at": profile.suspended_at, "suspension_reason": profile.suspension_reason}
    with booking_states.settling():  # the suspension and its settled bookings, one transaction
        write_suspension(profile, suspended=suspend, reason=reason)
        settled = booking_states.settle_delisted(profile) if suspend else 0
        if suspend:
            revoke_access(profile.user)  # sessions, pending links, the calendar feed
        audit.record(
            admin,
            "suspended" if suspend else "unsuspended",
            "therapist",
            profile.id,
            subject_label=f"{profile.name} <{profile.user.email}>",
            before=before,
            after={
                "suspended_at": profile.suspended_at,
                "suspension_reason": profile.suspension_reason,
                "bookings_settled": settled,
            },
            note=reason,
        )


def create_admin(email: str, password: str, *, promote: bool = False) -> User:
    """The way to make an admin (the CLI calls it). Audited as a role change."""
    email = normalise_email(email)
    problem = password_problem(password, email)
    if problem:
        raise ServiceError(problem, field="password")
    user = find_user(email)
    if user is not None and not promote:
        raise Conflict(f"{email} already has an account ({user.role.value}); pass --promote to make it an admin.")
    before = {"role": user.role.value} if user else None
    if user is None:
        user = User(email=email, name=email.split("@")[0], role=Role.ADMIN, email_confirmed_at=utcnow())
        db.session.add(user)
    user.role, user.password_hash = Role.ADMIN, hash_password(password)
    db.session.flush()
    audit.record(
        "command line",
        "role_changed",
        "user",
        user.id,
        subject_label=email,
        before=before,
        after={"role": Role.ADMIN.value},
    )
    db.session.commit()
    return user


def licenses_to_expire(at: datetime) -> list[License]:
    """Verified licenses whose date has ended in their state's zone (clock.license_end)."""
    maybe = db.session.scalars(
        select(License).where(
            License.status == CredentialStatus.VERIFIED, License.expires_on < clock.listing_days(at).latest
        )
    )
    return [lic for lic in maybe if not clock.license_holds(lic, at)]


def days_left(lic: License, at: datetime) -> int:
    """Whole days from the license holder's today (in its state's zone) to its expiry date."""
    return (lic.expires_on - clock.today_in(clock.state_zone(lic.state), at)).days


def expire_and_remind(at: datetime, send_reminder) -> dict[str, int]:
    """Mark lapsed licenses expired; remind 30 and 7 days ahead, each reminder once."""
    counts = {"expired": 0, "reminded_30": 0, "reminded_7": 0}
    today = clock.listing_days(at)
    for lic in licenses_to_expire(at):
        before = lic.snapshot()
        lic.expire()
        audit.record(
            "licenses expire",
            "license_expired",
            "license",
            lic.id,
            subject_label=_label("license", lic),
            before=before,
            after=lic.snapshot(),
        )
        counts["expired"] += 1
    db.session.commit()
    # A therapist the expiry (or the date) took out of the directory has their future bookings settled.
    counts["bookings_settled"] = booking_states.settle_unlisted()
    for ahead in REMINDER_DAYS:
        column = getattr(License, f"reminded_{ahead}_at")
        due = db.session.scalars(
            select(License)
            .where(
                License.status == CredentialStatus.VERIFIED,
                column.is_(None),
                License.expires_on >= today.earliest,
                License.expires_on <= today.latest + timedelta(days=ahead),
            )
            .options(selectinload(License.therapist).selectinload(TherapistProfile.user))
        ).all()
        for lic in due:
            left = days_left(lic, at)
            if not 0 <= left <= ahead:
                continue
            # A 7-day reminder makes the 30-day one moot: never send both late.
            if ahead == 30 and left <= 7:
                lic.reminded_30_at = utcnow()
                continue
            # Marked first, so the reminder is queued to leave with this commit: one at a
            # time, a crash never sends a reminder twice.
            setattr(lic, f"reminded_{ahead}_at", utcnow())
            send_reminder(lic, left)
            db.session.commit()
            counts[f"reminded_{ahead}"] += 1
    db.session.commit()
    return counts


def retry_outbox_job(admin: User, job_id: int) -> None:
    """Another round of attempts for a mail or job that failed or is stuck; audited."""
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        raise NotFound("No such job.")
    before = {"status": job.status, "attempts": job.attempts, "last_error": job.last_error}
    if not outbox.retry(job_id):
        db.session.rollback()
        raise Conflict(f"Job {job_id} is {job.status} now: it needs no retry.")
    audit.record(admin, "outbox_retry", "outbox_job", job_id, subject_label=job.name, before=before)
    db.session.commit()
