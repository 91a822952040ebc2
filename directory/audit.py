"""The audit log: every verification decision, suspension, role change and admin
sign-in, with who, when, what, and the values before and after.

Entries are written in the same transaction as the change they describe. The
application offers no way to edit or delete one: the ORM refuses it here.
"""

from __future__ import annotations

import json

from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEntry


class AuditLogIsAppendOnly(RuntimeError):
    pass


def record(
    actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    subject_label: str = "",
    before: dict | None = None,
    after: dict | None = None,
    note: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or str(actor or "system"),
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=subject_label[:300],
        before=json.dumps(before, default=str, sort_keys=True) if before is not None else None,
        after=json.dumps(after, default=str, sort_keys=True) if after is not None else None,
        note=note,
    )
    db.session.add(entry)
    return entry


def install(session) -> None:
    """Refuse edits and deletes of entries on this session (create_app passes db.session)."""
    for name, listener in (("before_flush", _refuse_changes), ("do_orm_execute", _refuse_bulk_changes)):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def _refuse_changes(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly("audit entries cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditLogIsAppendOnly("audit entries cannot be changed")


def _refuse_bulk_changes(state) -> None:
    if (state.is_update or state.is_delete) and any(
        getattr(m, "class_", None) is AuditEntry for m in state.all_mappers
    ):
        raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")


__all__ = ["record", "AuditLogIsAppendOnly"]
