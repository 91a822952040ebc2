"""therapist accounts: documents, photos, profile stats, credentials held in no-license states

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 01:48:51.779039

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: credential documents (owner only, by content hash), the no-license credential kind, last sign-in, the placed location label, photos, daily profile stats.
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_documents_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_documents_stored_name'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_owner_id'), ['owner_id'], unique=False)

    op.create_table('profile_stats',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('impressions', sa.Integer(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_profile_stats_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', 'day', name=op.f('pk_profile_stats'))
    )
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_certifications_document_id_documents'), 'documents', ['document_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('credential', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_licenses_document_id_documents'), 'documents', ['document_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_label', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('photo', sa.String(length=80), nullable=True))
        batch_op.alter_column('latitude',
               existing_type=sa.FLOAT(),
               nullable=True)
        batch_op.alter_column('longitude',
               existing_type=sa.FLOAT(),
               nullable=True)
        # A profile may now exist before its location is known.
        batch_op.drop_constraint(op.f('ck_therapist_profiles_latitude_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_therapist_profiles_longitude_range'), type_='check')
        batch_op.create_check_constraint('latitude_range', 'latitude IS NULL OR latitude BETWEEN -90 AND 90')
        batch_op.create_check_constraint('longitude_range', 'longitude IS NULL OR longitude BETWEEN -180 AND 180')
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.alter_column('location_label', server_default=None)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Reviewed: remove the documents, stats and the columns 0002 added.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')

    op.execute("DELETE FROM therapist_profiles WHERE latitude IS NULL OR longitude IS NULL")
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_therapist_profiles_latitude_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_therapist_profiles_longitude_range'), type_='check')
        batch_op.create_check_constraint('latitude_range', 'latitude BETWEEN -90 AND 90')
        batch_op.create_check_constraint('longitude_range', 'longitude BETWEEN -180 AND 180')
        batch_op.alter_column('longitude',
               existing_type=sa.FLOAT(),
               nullable=False)
        batch_op.alter_column('latitude',
               existing_type=sa.FLOAT(),
               nullable=False)
        batch_op.drop_column('photo')
        batch_op.drop_column('location_label')

    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_licenses_document_id_documents'), type_='foreignkey')
        batch_op.drop_column('credential')
        batch_op.drop_column('document_id')

    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certifications_document_id_documents'), type_='foreignkey')
        batch_op.drop_column('document_id')

    op.drop_table('profile_stats')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_owner_id'))

    op.drop_table('documents')
