"""trust: per-user session tokens; PostgreSQL refuses overlapping active bookings

Revision ID: trust1
Revises: 0004
Create Date: 2026-12-02 10:00:00

users.session_token is part of every session's user id: changing it ends every
session of that user. Existing users each get a random token (their current
sessions end once, at this deploy).

On PostgreSQL, an exclusion constraint (btree_gist) over tstzrange(starts_at,
ends_at) refuses two pending or confirmed bookings of one therapist that
overlap. Bookings made before the quarter-hour grid was enforced may already
overlap; the upgrade then stops and names them, so an operator can cancel one
of each pair (nothing is cancelled behind anyone's back).
"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'trust1'
down_revision = '0004'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('pending', 'confirmed')"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)

    if conn.dialect.name != 'postgresql':
        return  # SQLite: booking_slots' primary key keeps the guarantee
    overlaps = conn.execute(sa.text(
        f"SELECT a.id, b.id FROM bookings a JOIN bookings b"
        f" ON a.therapist_id = b.therapist_id AND a.id < b.id"
        f" AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)"
        f" WHERE a.{ACTIVE} AND b.{ACTIVE}"
    )).all()
    if overlaps:
        pairs = ", ".join(f"{a} and {b}" for a, b in overlaps)
        raise RuntimeError(
            f"These pending or confirmed bookings overlap: {pairs}. Cancel one of each pair, then upgrade again."
        )
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_therapist_time EXCLUDE USING gist "
        f"(therapist_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE ({ACTIVE})"
    )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # The btree_gist extension stays: other objects may use it.
        op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_therapist_time")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
