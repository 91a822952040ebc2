"""booking: several time ranges a day, booking policies and a private calendar,
messages on a booking, drafts kept across sign-in, reminders claimed once

weekly_hours loses its one-range-per-weekday constraint (a therapist may work
09:00-12:00 and 14:00-18:00). booking_settings holds each therapist's minimum
notice for client cancellation and rescheduling, the buffer after sessions,
whether the address waits for a confirmed booking, a phone number and the
secret of the private iCal feed. bookings gain the buffer they hold, the
calendar sequence (RFC 5545 SEQUENCE), and when the day-before reminder and the
"How was your visit?" mail were sent. booking_messages is the thread between a
booking's two sides; booking_drafts keeps a booking form while its visitor
signs in (found by the digest of a key in their session, removed when used or
after a few hours).

Revision ID: booking1
Revises: paper1
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'booking1'
down_revision = 'paper1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_weekly_hours_therapist_id_weekday'), type_='unique')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        # Existing rows: no buffer held, sequence 0, no reminder sent yet.
        batch_op.add_column(sa.Column('buffer_minutes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_prompted_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.alter_column('buffer_minutes', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('calendar_sequence', existing_type=sa.Integer(), server_default=None)
    # Visits already completed before this release are not asked about afterwards.
    op.execute("UPDATE bookings SET review_prompted_at = completed_at WHERE status = 'completed'")

    op.create_table('booking_settings',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('notice_hours', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('address_after_confirmation', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('calendar_token', sa.String(length=64), nullable=True),
    sa.CheckConstraint('buffer_minutes IN (0, 15, 30, 45, 60)', name=op.f('ck_booking_settings_buffer_on_grid')),
    sa.CheckConstraint('notice_hours BETWEEN 0 AND 168', name=op.f('ck_booking_settings_notice_range')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_booking_settings_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', name=op.f('pk_booking_settings')),
    sa.UniqueConstraint('calendar_token', name=op.f('uq_booking_settings_calendar_token'))
    )
    op.create_table('booking_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_booking_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_messages_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_messages'))
    )
    with op.batch_alter_table('booking_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_messages_booking_id'), ['booking_id'], unique=False)
    op.create_table('booking_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_digest', sa.String(length=64), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('concerns', sa.Text(), nullable=False),
    sa.Column('goals', sa.String(length=300), nullable=False),
    sa.Column('conditions', sa.String(length=300), nullable=False),
    sa.Column('medications', sa.Text(), nullable=False),
    sa.Column('history', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_booking_drafts_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_drafts')),
    sa.UniqueConstraint('key_digest', name=op.f('uq_booking_drafts_key_digest'))
    )
    with op.batch_alter_table('booking_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_drafts_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('booking_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_drafts_created_at'))
    op.drop_table('booking_drafts')
    with op.batch_alter_table('booking_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_messages_booking_id'))
    op.drop_table('booking_messages')
    op.drop_table('booking_settings')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('review_prompted_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('calendar_sequence')
        batch_op.drop_column('buffer_minutes')
    # Going back to one range a weekday: keep each day's first-saved range only.
    op.execute(
        "DELETE FROM weekly_hours WHERE id NOT IN "
        "(SELECT MIN(id) FROM weekly_hours GROUP BY therapist_id, weekday)"
    )
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_weekly_hours_therapist_id_weekday'), ['therapist_id', 'weekday'])
