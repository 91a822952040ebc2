"""outbox: every mail and job as a row written with the change it announces

Revision ID: outbox1
Revises: privfeeds1
Create Date: 2026-12-08 00:30:00

outbox_jobs holds each mail and job until it is delivered (directory/outbox.py): its
idempotency key is unique; the workers look for due rows by (status, next_attempt_at);
a thread's message notices are found by topic.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'outbox1'
down_revision = 'privfeeds1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('topic', sa.String(length=120), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_jobs_status_known')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_jobs')),
        sa.UniqueConstraint('key', name=op.f('uq_outbox_jobs_key')),
    )
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_jobs_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_jobs_topic'), ['topic'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_jobs_topic'))
        batch_op.drop_index('ix_outbox_jobs_due')
    op.drop_table('outbox_jobs')
