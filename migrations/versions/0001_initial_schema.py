"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 01:31:38.672907

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: Users, therapist profiles with the search index, licenses, certifications, techniques, prices, geocode cache.
    op.create_table('geocode_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('query', sa.String(length=300), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geocode_cache')),
    sa.UniqueConstraint('provider', 'query', name=op.f('uq_geocode_cache_provider_query'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=True),
    sa.Column('role', sa.Enum('client', 'therapist', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('therapist_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('gender', sa.String(length=20), nullable=True),
    sa.Column('languages', sa.String(length=200), nullable=False),
    sa.Column('years_experience', sa.Integer(), nullable=True),
    sa.Column('hsa_fsa', sa.Boolean(), nullable=False),
    sa.Column('accepting_new_clients', sa.Boolean(), nullable=False),
    sa.Column('mobile_radius_miles', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspension_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('listed_until', sa.Date(), nullable=True),
    sa.Column('search_techniques', sa.String(length=200), nullable=False),
    sa.Column('search_certifications', sa.String(length=200), nullable=False),
    sa.Column('search_prices', sa.String(length=100), nullable=False),
    sa.CheckConstraint('latitude BETWEEN -90 AND 90', name=op.f('ck_therapist_profiles_latitude_range')),
    sa.CheckConstraint('longitude BETWEEN -180 AND 180', name=op.f('ck_therapist_profiles_longitude_range')),
    sa.CheckConstraint('mobile_radius_miles IS NULL OR mobile_radius_miles >= 0', name=op.f('ck_therapist_profiles_mobile_radius')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_therapist_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_therapist_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_therapist_profiles_user_id'))
    )
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.create_index('ix_therapist_profiles_search', ['latitude', 'longitude', 'listed_until', 'id', 'search_techniques', 'search_certifications', 'search_prices', 'gender', 'languages', 'hsa_fsa', 'accepting_new_clients', 'mobile_radius_miles', 'years_experience'], unique=False)
        batch_op.create_index(batch_op.f('ix_therapist_profiles_state'), ['state'], unique=False)

    op.create_table('certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('issuer', sa.String(length=120), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'expired', name='credential_status', native_enum=False, length=20), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_via', sa.String(length=40), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_certifications_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_certifications_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certifications')),
    sa.UniqueConstraint('therapist_id', 'slug', name=op.f('uq_certifications_therapist_id_slug'))
    )
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certifications_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('licenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'expired', name='credential_status', native_enum=False, length=20), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_via', sa.String(length=40), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_licenses_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_licenses_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licenses')),
    sa.UniqueConstraint('state', 'number', name=op.f('uq_licenses_state_number'))
    )
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licenses_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('session_prices',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_session_prices_amount_not_negative')),
    sa.CheckConstraint('minutes IN (30, 45, 60, 90)', name=op.f('ck_session_prices_minutes_offered')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_session_prices_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', 'minutes', name=op.f('pk_session_prices'))
    )
    op.create_table('therapist_techniques',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('technique', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_therapist_techniques_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', 'technique', name=op.f('pk_therapist_techniques'))
    )
    with op.batch_alter_table('therapist_techniques', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_therapist_techniques_technique'), ['technique'], unique=False)


def downgrade():
    # Reviewed: Drop everything 0001 created, children first.
    with op.batch_alter_table('therapist_techniques', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_therapist_techniques_technique'))

    op.drop_table('therapist_techniques')
    op.drop_table('session_prices')
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licenses_therapist_id'))

    op.drop_table('licenses')
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certifications_therapist_id'))

    op.drop_table('certifications')
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_therapist_profiles_state'))
        batch_op.drop_index('ix_therapist_profiles_search')

    op.drop_table('therapist_profiles')
    op.drop_table('users')
    op.drop_table('geocode_cache')
