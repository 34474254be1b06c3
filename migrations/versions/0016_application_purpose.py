"""application purpose: replacement 补卡 and exchange 换卡 applications (申领类型), the card fee
工本费 with its receipt number (one per fee, from a per-day counter), the old card handed in

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

PURPOSES = ("first", "replacement", "exchange")  # app.procedures.application.states.Purpose


def upgrade():
    op.create_table('card_fee_receipt_seq',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_card_fee_receipt_seq'))
    )
    with op.batch_alter_table('card_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=12), server_default='first',
                                      nullable=False))
        batch_op.add_column(sa.Column('old_card_handed_in', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('fee_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fee_receipt_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('fee_paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            'purpose', "purpose IN (" + ", ".join(repr(p) for p in PURPOSES) + ")")
        batch_op.create_check_constraint('fee_cents', "fee_cents IS NULL OR fee_cents >= 0")
        batch_op.create_index('uq_card_application_fee_receipt_number', ['fee_receipt_number'],
                              unique=True)


def downgrade():
    with op.batch_alter_table('card_application', schema=None) as batch_op:
        batch_op.drop_index('uq_card_application_fee_receipt_number')
        batch_op.drop_constraint('fee_cents', type_='check')
        batch_op.drop_constraint('purpose', type_='check')
        batch_op.drop_column('fee_paid_at')
        batch_op.drop_column('fee_receipt_number')
        batch_op.drop_column('fee_cents')
        batch_op.drop_column('old_card_handed_in')
        batch_op.drop_column('purpose')
    op.drop_table('card_fee_receipt_seq')
