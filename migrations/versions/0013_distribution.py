"""distribution

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:04:28.475100
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('distribution_statistics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_statistics')),
    sa.UniqueConstraint('period', 'scope', name='uq_distribution_statistics')
    )
    op.create_table('distribution_pickup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('office', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('letter_agent_name', sa.String(length=30), nullable=False),
    sa.Column('letter_agent_id', sa.String(length=18), nullable=False),
    sa.Column('voucher_version', sa.Integer(), nullable=False),
    sa.Column('seal_checked', sa.Boolean(), nullable=False),
    sa.Column('cards', sa.Integer(), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handed_over_by', sa.String(length=64), nullable=True),
    sa.Column('distribute_by', sa.Date(), nullable=True),
    sa.Column('return_by', sa.Date(), nullable=True),
    sa.Column('roster_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('roster_scan', sa.LargeBinary(), nullable=True),
    sa.Column('roster_scan_name', sa.String(length=200), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('agent_checked', 'counted', 'handed_over', 'roster_back', 'closed')", name=op.f('ck_distribution_pickup_status')),
    sa.ForeignKeyConstraint(['employer_id'], ['batch_employer.id'], name=op.f('fk_distribution_pickup_employer_id_batch_employer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_pickup')),
    sa.UniqueConstraint('number', name=op.f('uq_distribution_pickup_number'))
    )
    with op.batch_alter_table('distribution_pickup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_pickup_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_pickup_instance_id'), ['instance_id'], unique=False)

    op.create_table('card_custody',
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("reason IS NULL OR reason IN ('moved', 'retired_elsewhere', 'died', 'not_collected', 'other', 'wrong_data')", name=op.f('ck_card_custody_reason')),
    sa.CheckConstraint("state IN ('made', 'accepted', 'at_centre', 'with_employer', 'with_holder', 'returned', 'reissued', 'invalidated')", name=op.f('ck_card_custody_state')),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_card_custody_batch_id_batch')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_custody_card_id_card')),
    sa.ForeignKeyConstraint(['employer_id'], ['batch_employer.id'], name=op.f('fk_card_custody_employer_id_batch_employer')),
    sa.ForeignKeyConstraint(['person_id'], ['batch_person.id'], name=op.f('fk_card_custody_person_id_batch_person')),
    sa.PrimaryKeyConstraint('card_id', name=op.f('pk_card_custody'))
    )
    with op.batch_alter_table('card_custody', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_custody_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_custody_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_custody_person_id'), ['person_id'], unique=False)

    op.create_table('distribution_holder_pickup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('by_proxy', sa.Boolean(), nullable=False),
    sa.Column('holder_id_seen', sa.Boolean(), nullable=False),
    sa.Column('holder_household_seen', sa.Boolean(), nullable=False),
    sa.Column('proxy_name', sa.String(length=30), nullable=True),
    sa.Column('proxy_id_number', sa.String(length=18), nullable=True),
    sa.Column('proxy_id_seen', sa.Boolean(), nullable=False),
    sa.Column('proxy_household_seen', sa.Boolean(), nullable=False),
    sa.Column('handed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handed_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_distribution_holder_pickup_card_id_card')),
    sa.ForeignKeyConstraint(['person_id'], ['batch_person.id'], name=op.f('fk_distribution_holder_pickup_person_id_batch_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_holder_pickup')),
    sa.UniqueConstraint('card_id', name='uq_distribution_holder_pickup')
    )
    with op.batch_alter_table('distribution_holder_pickup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_holder_pickup_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_holder_pickup_person_id'), ['person_id'], unique=False)

    op.create_table('distribution_pickup_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pickup_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('signed', 'not_handed_out', 'wrong_data')", name=op.f('ck_distribution_pickup_card_outcome')),
    sa.CheckConstraint("reason IS NULL OR reason IN ('moved', 'retired_elsewhere', 'died', 'not_collected', 'other', 'wrong_data')", name=op.f('ck_distribution_pickup_card_reason')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_distribution_pickup_card_card_id_card')),
    sa.ForeignKeyConstraint(['person_id'], ['batch_person.id'], name=op.f('fk_distribution_pickup_card_person_id_batch_person')),
    sa.ForeignKeyConstraint(['pickup_id'], ['distribution_pickup.id'], name=op.f('fk_distribution_pickup_card_pickup_id_distribution_pickup')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_pickup_card')),
    sa.UniqueConstraint('pickup_id', 'card_id', name='uq_distribution_pickup_card')
    )
    with op.batch_alter_table('distribution_pickup_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_pickup_card_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_pickup_card_pickup_id'), ['pickup_id'], unique=False)

    op.create_table('distribution_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('pickup_id', sa.Integer(), nullable=True),
    sa.Column('agent_name', sa.String(length=30), nullable=False),
    sa.Column('not_handed_out', sa.Integer(), nullable=False),
    sa.Column('wrong_data', sa.Integer(), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['batch_employer.id'], name=op.f('fk_distribution_return_employer_id_batch_employer')),
    sa.ForeignKeyConstraint(['pickup_id'], ['distribution_pickup.id'], name=op.f('fk_distribution_return_pickup_id_distribution_pickup')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_return')),
    sa.UniqueConstraint('number', name=op.f('uq_distribution_return_number'))
    )
    with op.batch_alter_table('distribution_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_return_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_return_pickup_id'), ['pickup_id'], unique=False)

    op.create_table('card_custody_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('pickup_id', sa.Integer(), nullable=True),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_custody_event_card_id_card')),
    sa.ForeignKeyConstraint(['pickup_id'], ['distribution_pickup.id'], name=op.f('fk_card_custody_event_pickup_id_distribution_pickup')),
    sa.ForeignKeyConstraint(['return_id'], ['distribution_return.id'], name=op.f('fk_card_custody_event_return_id_distribution_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_custody_event'))
    )
    with op.batch_alter_table('card_custody_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_custody_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_custody_event_card_id'), ['card_id'], unique=False)

    op.create_table('distribution_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('corrected', sa.JSON(), nullable=True),
    sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('corrected_by', sa.String(length=64), nullable=True),
    sa.Column('reported', sa.String(length=40), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_distribution_correction_card_id_card')),
    sa.ForeignKeyConstraint(['person_id'], ['batch_person.id'], name=op.f('fk_distribution_correction_person_id_batch_person')),
    sa.ForeignKeyConstraint(['return_id'], ['distribution_return.id'], name=op.f('fk_distribution_correction_return_id_distribution_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_correction')),
    sa.UniqueConstraint('card_id', name='uq_distribution_correction')
    )
    with op.batch_alter_table('distribution_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_correction_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_correction_person_id'), ['person_id'], unique=False)

    op.create_table('distribution_return_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.CheckConstraint("reason IN ('moved', 'retired_elsewhere', 'died', 'not_collected', 'other', 'wrong_data')", name=op.f('ck_distribution_return_card_reason')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_distribution_return_card_card_id_card')),
    sa.ForeignKeyConstraint(['person_id'], ['batch_person.id'], name=op.f('fk_distribution_return_card_person_id_batch_person')),
    sa.ForeignKeyConstraint(['return_id'], ['distribution_return.id'], name=op.f('fk_distribution_return_card_return_id_distribution_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_return_card')),
    sa.UniqueConstraint('card_id', name='uq_distribution_return_card')
    )
    with op.batch_alter_table('distribution_return_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_return_card_return_id'), ['return_id'], unique=False)



def downgrade():
    with op.batch_alter_table('distribution_return_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_return_card_return_id'))

    op.drop_table('distribution_return_card')
    with op.batch_alter_table('distribution_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_correction_person_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_correction_instance_id'))

    op.drop_table('distribution_correction')
    with op.batch_alter_table('card_custody_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_custody_event_card_id'))
        batch_op.drop_index(batch_op.f('ix_card_custody_event_at'))

    op.drop_table('card_custody_event')
    with op.batch_alter_table('distribution_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_return_pickup_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_return_employer_id'))

    op.drop_table('distribution_return')
    with op.batch_alter_table('distribution_pickup_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_pickup_card_pickup_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_pickup_card_card_id'))

    op.drop_table('distribution_pickup_card')
    with op.batch_alter_table('distribution_holder_pickup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_holder_pickup_person_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_holder_pickup_instance_id'))

    op.drop_table('distribution_holder_pickup')
    with op.batch_alter_table('card_custody', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_custody_person_id'))
        batch_op.drop_index(batch_op.f('ix_card_custody_employer_id'))
        batch_op.drop_index(batch_op.f('ix_card_custody_batch_id'))

    op.drop_table('card_custody')
    with op.batch_alter_table('distribution_pickup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_pickup_instance_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_pickup_employer_id'))

    op.drop_table('distribution_pickup')
    op.drop_table('distribution_statistics')
