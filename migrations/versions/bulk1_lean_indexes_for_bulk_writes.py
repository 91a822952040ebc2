"""Lean indexes for bulk writes

Every index is written for every row an import adds. Two were spent for
nothing: certifications' index on therapist_id (the unique index on
(therapist_id, slug) leads with it and serves the same look-ups), and the
unique index on therapist_profiles.npi, which held an entry for every profile
without an NPI (most of them): it becomes a partial unique index over the
profiles that have one, the same rule.

Revision ID: bulk1
Revises: booking1
Create Date: 2026-12-07 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bulk1'
down_revision = 'booking1'
branch_labels = None
depends_on = None

HAS_NPI = sa.text("npi IS NOT NULL")


def upgrade():
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certifications_therapist_id'))
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_therapist_profiles_npi'), type_='unique')
    op.create_index(
        'uq_therapist_profiles_npi', 'therapist_profiles', ['npi'], unique=True,
        postgresql_where=HAS_NPI, sqlite_where=HAS_NPI,
    )


def downgrade():
    op.drop_index('uq_therapist_profiles_npi', table_name='therapist_profiles')
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_therapist_profiles_npi'), ['npi'])
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certifications_therapist_id'), ['therapist_id'], unique=False)
