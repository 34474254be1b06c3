"""lifecycle: activation rounds, card activations, loss reports, region moves and the card's
history (app.procedures.lifecycle); the embedded medical-insurance accounts and bank debit
activations (app.adapters.medical, app.adapters.bank); the card's insured region; card jobs on a
card in use (no application) and the station's kinds change_pin and rewrite_region

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD_KINDS = ("issue", "read", "verify", "block", "reset_pin")
KINDS = OLD_KINDS + ("change_pin", "rewrite_region")  # hardware/protocol.py, as of this revision


def upgrade():
    op.create_table('bank_debit_activation',
    sa.Column('bank_card_number', sa.String(length=19), nullable=False),
    sa.Column('bank', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('branch', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('bank_card_number', name=op.f('pk_bank_debit_activation')),
    sa.UniqueConstraint('reference', name=op.f('uq_bank_debit_activation_reference'))
    )
    op.create_table('medical_account',
    sa.Column('ssn', sa.String(length=18), nullable=False),
    sa.Column('balance_cents', sa.Integer(), nullable=False),
    sa.Column('old_card_number', sa.String(length=20), nullable=True),
    sa.Column('old_card_stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('card_number', sa.String(length=9), nullable=True),
    sa.Column('moved_cents', sa.Integer(), nullable=True),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('frozen_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('ssn', name=op.f('pk_medical_account'))
    )
    op.create_table('lifecycle_activation_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('office', sa.String(length=32), nullable=True),
    sa.Column('announced_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('activated', sa.Integer(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.Column('late_mark', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('running', 'done', 'failed')", name=op.f('ck_lifecycle_activation_round_state')),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_lifecycle_activation_round_batch_id_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_activation_round')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_lifecycle_activation_round_batch_id'))
    )
    op.create_table('lifecycle_card_activation',
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved_cents', sa.Integer(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_lifecycle_card_activation_card_id_card')),
    sa.ForeignKeyConstraint(['round_id'], ['lifecycle_activation_round.id'], name=op.f('fk_lifecycle_card_activation_round_id_lifecycle_activation_round')),
    sa.PrimaryKeyConstraint('card_id', name=op.f('pk_lifecycle_card_activation'))
    )
    with op.batch_alter_table('lifecycle_card_activation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_card_activation_round_id'), ['round_id'], unique=False)

    op.create_table('lifecycle_card_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('office', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('card_job_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('activated', 'pin_changed', 'pin_change_failed', 'pin_reset', 'pin_reset_failed', 'bank_activated', 'temp_loss', 'loss_reminded', 'formal_loss', 'lifted', 'blocked_on_chip', 'replaced', 'exchanged', 'moved', 'move_failed')", name=op.f('ck_lifecycle_card_event_kind')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_lifecycle_card_event_card_id_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_card_event'))
    )
    with op.batch_alter_table('lifecycle_card_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_card_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lifecycle_card_event_card_id'), ['card_id'], unique=False)

    op.create_table('lifecycle_loss',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('status_before', sa.String(length=24), nullable=False),
    sa.Column('office', sa.String(length=32), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('caller', sa.String(length=30), nullable=True),
    sa.Column('identity', sa.JSON(), nullable=True),
    sa.Column('formal_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('formal_by', sa.String(length=64), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=64), nullable=True),
    sa.Column('replace_via', sa.String(length=10), nullable=True),
    sa.Column('replace_at', sa.String(length=32), nullable=True),
    sa.Column('replacement_instance_id', sa.Integer(), nullable=True),
    sa.Column('replacement_card_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('temporary', 'formal')", name=op.f('ck_lifecycle_loss_kind')),
    sa.CheckConstraint("state IN ('temporary', 'formal', 'lifted', 'replaced')", name=op.f('ck_lifecycle_loss_state')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_lifecycle_loss_card_id_card')),
    sa.ForeignKeyConstraint(['replacement_card_id'], ['card.id'], name=op.f('fk_lifecycle_loss_replacement_card_id_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_loss'))
    )
    with op.batch_alter_table('lifecycle_loss', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_loss_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lifecycle_loss_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('uq_lifecycle_loss_open_per_card', ['card_id'], unique=True, postgresql_where=sa.text("state IN ('temporary', 'formal')"), sqlite_where=sa.text("state IN ('temporary', 'formal')"))

    op.create_table('lifecycle_region_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('from_region', sa.String(length=6), nullable=False),
    sa.Column('to_region', sa.String(length=6), nullable=False),
    sa.Column('moved_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('card_job_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('office', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_zh', sa.Text(), nullable=True),
    sa.Column('error_en', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('writing', 'done', 'failed')", name=op.f('ck_lifecycle_region_move_state')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_lifecycle_region_move_card_id_card')),
    sa.ForeignKeyConstraint(['card_job_id'], ['card_job.id'], name=op.f('fk_lifecycle_region_move_card_job_id_card_job')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_region_move'))
    )
    with op.batch_alter_table('lifecycle_region_move', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_region_move_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lifecycle_region_move_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('insured_region', sa.String(length=6), nullable=True))

    with op.batch_alter_table('card_job', schema=None) as batch_op:
        batch_op.alter_column('application_id',
               nullable=True)
        batch_op.create_index(batch_op.f('ix_card_job_card_id'), ['card_id'], unique=False)
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', "kind IN (" + ", ".join(repr(k) for k in KINDS) + ")")


def downgrade():

    with op.batch_alter_table('card_job', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', "kind IN (" + ", ".join(repr(k) for k in OLD_KINDS) + ")")
        batch_op.drop_index(batch_op.f('ix_card_job_card_id'))
        batch_op.alter_column('application_id',
               nullable=False)

    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_column('insured_region')

    with op.batch_alter_table('lifecycle_region_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lifecycle_region_move_instance_id'))
        batch_op.drop_index(batch_op.f('ix_lifecycle_region_move_card_id'))

    op.drop_table('lifecycle_region_move')
    with op.batch_alter_table('lifecycle_loss', schema=None) as batch_op:
        batch_op.drop_index('uq_lifecycle_loss_open_per_card', postgresql_where=sa.text("state IN ('temporary', 'formal')"), sqlite_where=sa.text("state IN ('temporary', 'formal')"))
        batch_op.drop_index(batch_op.f('ix_lifecycle_loss_instance_id'))
        batch_op.drop_index(batch_op.f('ix_lifecycle_loss_card_id'))

    op.drop_table('lifecycle_loss')
    with op.batch_alter_table('lifecycle_card_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lifecycle_card_event_card_id'))
        batch_op.drop_index(batch_op.f('ix_lifecycle_card_event_at'))

    op.drop_table('lifecycle_card_event')
    with op.batch_alter_table('lifecycle_card_activation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lifecycle_card_activation_round_id'))

    op.drop_table('lifecycle_card_activation')
    op.drop_table('lifecycle_activation_round')
    op.drop_table('medical_account')
    op.drop_table('bank_debit_activation')
