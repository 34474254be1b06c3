"""card job kind check: CardJob.kind is one of the station protocol's job kinds

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = ("issue", "read", "verify", "block", "reset_pin")  # hardware/protocol.py, as of this revision


def upgrade():
    with op.batch_alter_table('card_job', schema=None) as batch_op:
        batch_op.create_check_constraint('kind', "kind IN (" + ", ".join(repr(k) for k in KINDS) + ")")


def downgrade():
    with op.batch_alter_table('card_job', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
