"""NPI, NPPES registry, receipts, letters of medical necessity

A therapist's optional NPI (unique); the latest NPPES snapshot of massage
therapists with their licenses, and a row per import; one receipt per
completed visit, with the therapist's details as they stood then; a client's
letter of medical necessity, its file kept in the row.

Revision ID: paper1
Revises: trust1
Create Date: 2026-11-27 10:04:36.217757

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'paper1'
down_revision = 'trust1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('registry_providers',
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('npi', name=op.f('pk_registry_providers'))
    )
    op.create_table('registry_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_date', sa.Date(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('providers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_snapshots'))
    )
    op.create_table('medical_necessity_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_medical_necessity_letters_client_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_necessity_letters')),
    sa.UniqueConstraint('client_id', name=op.f('uq_medical_necessity_letters_client_id'))
    )
    op.create_table('registry_licenses',
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('number_key', sa.String(length=40), nullable=False),
    sa.Column('taxonomy', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['npi'], ['registry_providers.npi'], name=op.f('fk_registry_licenses_npi_registry_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('npi', 'slot', name=op.f('pk_registry_licenses'))
    )
    with op.batch_alter_table('registry_licenses', schema=None) as batch_op:
        batch_op.create_index('ix_registry_licenses_lookup', ['state', 'number_key'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('tip_amount', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('technique', sa.String(length=40), nullable=False),
    sa.Column('therapist_name', sa.String(length=120), nullable=False),
    sa.Column('practice_address', sa.String(length=300), nullable=False),
    sa.Column('license_state', sa.String(length=2), nullable=True),
    sa.Column('license_number', sa.String(length=40), nullable=True),
    sa.Column('license_credential', sa.String(length=40), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('visit_starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visit_minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.CheckConstraint('amount_paid >= 0', name=op.f('ck_receipts_amount_paid_not_negative')),
    sa.CheckConstraint('tip_amount >= 0', name=op.f('ck_receipts_tip_not_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_receipts_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_receipts_booking_id')),
    sa.UniqueConstraint('number', name=op.f('uq_receipts_number'))
    )
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('npi', sa.String(length=10), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_therapist_profiles_npi'), ['npi'])



def downgrade():
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_therapist_profiles_npi'), type_='unique')
        batch_op.drop_column('npi')

    op.drop_table('receipts')
    with op.batch_alter_table('registry_licenses', schema=None) as batch_op:
        batch_op.drop_index('ix_registry_licenses_lookup')

    op.drop_table('registry_licenses')
    op.drop_table('medical_necessity_letters')
    op.drop_table('registry_snapshots')
    op.drop_table('registry_providers')
