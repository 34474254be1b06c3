"""province: the embedded provincial report of returned cards 省级退卡上报 (app.adapters.province)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('province_card_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_number', sa.String(length=40), nullable=False),
    sa.Column('card_number', sa.String(length=9), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_province_card_report')),
    sa.UniqueConstraint('card_number', name=op.f('uq_province_card_report_card_number'))
    )
    with op.batch_alter_table('province_card_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_province_card_report_report_number'), ['report_number'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('province_card_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_province_card_report_report_number'))
    op.drop_table('province_card_report')
