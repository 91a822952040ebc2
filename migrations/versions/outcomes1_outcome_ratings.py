"""outcomes: clients' 0-10 ratings of a visit's goals, before and a day after

Revision ID: outcomes1
Revises: bulk1
Create Date: 2026-12-08 00:30:00

One row per goal of a visit: `pre` when the visit is requested, `post` in the
"How was your visit?" follow-up, and the client's separate consent to count
them, anonymously, toward the therapist's results (matching/outcomes.py).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'outcomes1'
down_revision = 'bulk1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outcome_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('goal', sa.String(length=40), nullable=False),
    sa.Column('pre', sa.Integer(), nullable=False),
    sa.Column('post', sa.Integer(), nullable=True),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('post_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('pre BETWEEN 0 AND 10', name=op.f('ck_outcome_ratings_pre_range')),
    sa.CheckConstraint('post IS NULL OR post BETWEEN 0 AND 10', name=op.f('ck_outcome_ratings_post_range')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_outcome_ratings_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_ratings')),
    sa.UniqueConstraint('booking_id', 'goal', name=op.f('uq_outcome_ratings_booking_id_goal'))
    )
    with op.batch_alter_table('outcome_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_ratings_goal'), ['goal'], unique=False)


def downgrade():
    with op.batch_alter_table('outcome_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_ratings_goal'))
    op.drop_table('outcome_ratings')
