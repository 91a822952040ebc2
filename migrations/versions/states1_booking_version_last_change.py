"""states: bookings.version and bookings.last_change for the booking state machine

Revision ID: states1
Revises: outbox1
Create Date: 2026-12-08 00:00:00

Every booking change is a compare-and-set on (status, version) (booking_states.py);
last_change names the transition that made the current version, so the loser of a
race is told what happened. The two new states (no_show, expired) need no DDL: the
status column is a VARCHAR(20) without a CHECK.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'states1'
down_revision = 'outbox1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_change', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('last_change')
        batch_op.drop_column('version')
