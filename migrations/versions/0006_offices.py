"""offices: the office of a user and of a case; card centres as service points

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('window', 'outlet')"
NEW_KINDS = "kind IN ('window', 'outlet', 'centre')"


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_user_office', ['office'], unique=False)
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_process_instance_office', ['office'], unique=False)
    with op.batch_alter_table('card_service_point', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_card_service_point_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_card_service_point_kind'), NEW_KINDS)


def downgrade():
    with op.batch_alter_table('card_service_point', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_card_service_point_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_card_service_point_kind'), OLD_KINDS)
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_office')
        batch_op.drop_column('office')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index('ix_user_office')
        batch_op.drop_column('office')
