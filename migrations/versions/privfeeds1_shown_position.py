"""The position that may leave the site, beside the exact one

A therapist who shows only the area until a booking is confirmed (a home
practice) is searched for, and published by the feeds, at the centre of a grid
cell of 0.025 degrees holding the practice (therapists/visibility.py): search
measured distances from the exact position, and three searches from chosen
points placed the practice to a few metres. `shown_latitude` and
`shown_longitude` hold that position (the exact one for every other practice);
the search index leads with them instead of the exact columns.

Revision ID: privfeeds1
Revises: outcomes1
Create Date: 2026-12-08 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'privfeeds1'
down_revision = 'outcomes1'
branch_labels = None
depends_on = None

CELL = 0.025  # therapists/visibility.py: AREA_CELL
SEARCH_TAIL = ['listed_until', 'id', 'search_techniques', 'search_certifications', 'search_prices', 'gender',
               'languages', 'hsa_fsa', 'accepting_new_clients', 'mobile_radius_miles', 'years_experience',
               'rating_count', 'rating_average']
HIDDEN = (
    "EXISTS (SELECT 1 FROM booking_settings b "
    "WHERE b.therapist_id = therapist_profiles.id AND b.address_after_confirmation)"
)


def upgrade():
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('shown_longitude', sa.Float(), nullable=True))
    op.execute("UPDATE therapist_profiles SET shown_latitude = latitude, shown_longitude = longitude")
    op.execute(
        f"UPDATE therapist_profiles SET "
        f"shown_latitude = (floor(latitude / {CELL}) + 0.5) * {CELL}, "
        f"shown_longitude = (floor(longitude / {CELL}) + 0.5) * {CELL} "
        f"WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND {HIDDEN}"
    )
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_therapist_profiles_search')
        batch_op.create_index('ix_therapist_profiles_search', ['shown_latitude', 'shown_longitude', *SEARCH_TAIL])


def downgrade():
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_therapist_profiles_search')
        batch_op.create_index('ix_therapist_profiles_search', ['latitude', 'longitude', *SEARCH_TAIL])
        batch_op.drop_column('shown_longitude')
        batch_op.drop_column('shown_latitude')
