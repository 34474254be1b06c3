"""manufacturer: the embedded card manufacturer's cards 制卡厂商 (app.adapters.manufacturer)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('manufacturer_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_number', sa.String(length=30), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('bank', sa.String(length=10), nullable=False),
    sa.Column('card_number', sa.String(length=9), nullable=True),
    sa.Column('bank_account', sa.String(length=19), nullable=True),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('made', 'failed')", name=op.f('ck_manufacturer_card_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manufacturer_card')),
    sa.UniqueConstraint('bank_account', name=op.f('uq_manufacturer_card_bank_account')),
    sa.UniqueConstraint('card_number', name=op.f('uq_manufacturer_card_card_number')),
    sa.UniqueConstraint('order_number', 'line', name='uq_manufacturer_card_line')
    )


def downgrade():
    op.drop_table('manufacturer_card')
