"""bookings, availability, intakes, reviews, ratings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 02:14:06.443430

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: Bookings with their quarter-hour slots, weekly hours, time off, intakes and reviews; ratings on profiles.
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('price_amount', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'declined', 'cancelled', 'completed', name='booking_status', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('therapist_message', sa.Text(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=20), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('price_amount >= 0', name=op.f('ck_bookings_price_not_negative')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_bookings_start_before_end')),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_bookings_client_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_bookings_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_bookings_therapist_start', ['therapist_id', 'starts_at'], unique=False)

    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_time_off_start_before_end')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_time_off_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_off_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('weekly_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('start_time < end_time', name=op.f('ck_weekly_hours_start_before_end')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_weekly_hours_weekday_range')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_weekly_hours_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_hours')),
    sa.UniqueConstraint('therapist_id', 'weekday', name=op.f('uq_weekly_hours_therapist_id_weekday'))
    )
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_hours_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('booking_slots',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_slots_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_booking_slots_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', 'slot_start', name=op.f('pk_booking_slots'))
    )
    with op.batch_alter_table('booking_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_slots_booking_id'), ['booking_id'], unique=False)

    op.create_table('intakes',
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('concerns', sa.Text(), nullable=False),
    sa.Column('goals', sa.String(length=300), nullable=False),
    sa.Column('conditions', sa.String(length=300), nullable=False),
    sa.Column('medications', sa.Text(), nullable=False),
    sa.Column('history', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_intakes_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_intakes'))
    )
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_reviews_rating_range')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_reviews_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_reviews_client_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_reviews_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_reviews_booking_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_therapist_id'), ['therapist_id'], unique=False)

    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rating_average', sa.Float(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_therapist_profiles_search'))
        batch_op.create_index('ix_therapist_profiles_search', ['latitude', 'longitude', 'listed_until', 'id', 'search_techniques', 'search_certifications', 'search_prices', 'gender', 'languages', 'hsa_fsa', 'accepting_new_clients', 'mobile_radius_miles', 'years_experience', 'rating_count', 'rating_average'], unique=False)
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.alter_column('rating_count', server_default=None)


def downgrade():
    # Reviewed: Remove bookings and everything that hangs off them.
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_therapist_profiles_search')
        batch_op.create_index(batch_op.f('ix_therapist_profiles_search'), ['latitude', 'longitude', 'listed_until', 'id', 'search_techniques', 'search_certifications', 'search_prices', 'gender', 'languages', 'hsa_fsa', 'accepting_new_clients', 'mobile_radius_miles', 'years_experience'], unique=False)
        batch_op.drop_column('rating_average')
        batch_op.drop_column('rating_count')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_therapist_id'))

    op.drop_table('reviews')
    op.drop_table('intakes')
    with op.batch_alter_table('booking_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_slots_booking_id'))

    op.drop_table('booking_slots')
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_hours_therapist_id'))

    op.drop_table('weekly_hours')
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_off_therapist_id'))

    op.drop_table('time_off')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_therapist_start')
        batch_op.drop_index(batch_op.f('ix_bookings_client_id'))

    op.drop_table('bookings')
