"""merge: the session records (0007a) and the model review (0007b), written side by side

Revision ID: 0008
Revises: 0007a, 0007b
"""
revision = '0008'
down_revision = ('0007a', '0007b')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
