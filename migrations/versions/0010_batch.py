"""batch issuance

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:51:50.402728
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # the embedded police register keeps the ID-card photo (batch data: 身份证照片)
    with op.batch_alter_table('police_register_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo', sa.LargeBinary(), nullable=True))
    op.create_table('background_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('phase', sa.String(length=40), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('checkpoint', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error_zh', sa.Text(), nullable=True),
    sa.Column('error_en', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_background_job_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_job'))
    )
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_background_job_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_background_job_subject'), ['subject'], unique=False)

    op.create_table('batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('cutoff', sa.Date(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('office', sa.String(length=32), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('source_name', sa.String(length=200), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('error_zh', sa.Text(), nullable=True),
    sa.Column('error_en', sa.Text(), nullable=True),
    sa.Column('return_by', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('importing', 'checked', 'confirming', 'in_production', 'delivered', 'closed', 'failed')", name=op.f('ck_batch_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch'))
    )
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_instance_id'), ['instance_id'], unique=False)

    op.create_table('batch_voucher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_code', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('employer_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=25), nullable=True),
    sa.Column('address', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=6), nullable=True),
    sa.Column('filled_by', sa.String(length=30), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_voucher')),
    sa.UniqueConstraint('employer_code', 'version', name='uq_batch_voucher')
    )
    with op.batch_alter_table('batch_voucher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_voucher_employer_code'), ['employer_code'], unique=False)

    op.create_table('city_region',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_city_region'))
    )
    op.create_table('city_setting',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_city_setting'))
    )
    op.create_table('partner_bank',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('short_name', sa.String(length=20), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_partner_bank'))
    )
    op.create_table('batch_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('rejected', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_upload_batch_id_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_upload'))
    )
    with op.batch_alter_table('batch_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_upload_batch_id'), ['batch_id'], unique=False)

    op.create_table('batch_contribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('employer_code', sa.String(length=30), nullable=False),
    sa.Column('employer_name', sa.String(length=100), nullable=False),
    sa.Column('dept1', sa.String(length=100), nullable=True),
    sa.Column('dept2', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('insurance', sa.String(length=10), nullable=False),
    sa.Column('insured_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_contribution_batch_id_batch')),
    sa.ForeignKeyConstraint(['upload_id'], ['batch_upload.id'], name=op.f('fk_batch_contribution_upload_id_batch_upload')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_contribution')),
    sa.UniqueConstraint('batch_id', 'id_number', 'region', 'employer_code', 'insurance', 'insured_on', name='uq_batch_contribution_record')
    )
    with op.batch_alter_table('batch_contribution', schema=None) as batch_op:
        batch_op.create_index('ix_batch_contribution_line', ['upload_id', 'row_no'], unique=False)
        batch_op.create_index('ix_batch_contribution_person', ['batch_id', 'id_number'], unique=False)

    op.create_table('batch_employer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('eligible', sa.Integer(), nullable=False),
    sa.Column('not_eligible', sa.Integer(), nullable=False),
    sa.Column('forms_received', sa.Integer(), nullable=True),
    sa.Column('forms_returned', sa.Integer(), nullable=True),
    sa.Column('declared', sa.JSON(), nullable=True),
    sa.Column('differences', sa.JSON(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('waiting', 'confirming', 'entering', 'reviewing', 'submitted', 'in_production', 'delivered', 'accepted', 'notified')", name=op.f('ck_batch_employer_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_employer_batch_id_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_employer')),
    sa.UniqueConstraint('batch_id', 'code', name='uq_batch_employer')
    )
    with op.batch_alter_table('batch_employer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_employer_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_employer_instance_id'), ['instance_id'], unique=False)

    op.create_table('batch_production',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('remake', sa.Boolean(), nullable=False),
    sa.Column('order_file', sa.Text(), nullable=True),
    sa.Column('delivery_file', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_production_batch_id_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_production')),
    sa.UniqueConstraint('number', name=op.f('uq_batch_production_number'))
    )
    with op.batch_alter_table('batch_production', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_production_batch_id'), ['batch_id'], unique=False)

    op.create_table('batch_voucher_agent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('office_phone', sa.String(length=25), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.CheckConstraint('slot BETWEEN 1 AND 3', name=op.f('ck_batch_voucher_agent_slot')),
    sa.ForeignKeyConstraint(['voucher_id'], ['batch_voucher.id'], name=op.f('fk_batch_voucher_agent_voucher_id_batch_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_voucher_agent')),
    sa.UniqueConstraint('voucher_id', 'slot', name='uq_batch_voucher_agent')
    )
    with op.batch_alter_table('batch_voucher_agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_voucher_agent_voucher_id'), ['voucher_id'], unique=False)

    op.create_table('batch_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('employer_code', sa.String(length=30), nullable=True),
    sa.Column('dept1', sa.String(length=100), nullable=True),
    sa.Column('dept2', sa.String(length=100), nullable=True),
    sa.Column('eligibility', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('police_name', sa.String(length=30), nullable=True),
    sa.Column('police_sex', sa.String(length=1), nullable=True),
    sa.Column('ethnicity', sa.String(length=2), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('household_address', sa.String(length=100), nullable=True),
    sa.Column('household_region', sa.String(length=6), nullable=True),
    sa.Column('has_photo', sa.Boolean(), nullable=False),
    sa.Column('sort_key', sa.String(length=200), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('entry', sa.String(length=16), nullable=False),
    sa.Column('bank', sa.String(length=10), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('landline', sa.String(length=25), nullable=True),
    sa.Column('address', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=6), nullable=True),
    sa.Column('entered_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('production', sa.String(length=10), nullable=True),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('taken_into', sa.Integer(), nullable=True),
    sa.CheckConstraint("eligibility IN ('pending', 'excluded_after_cutoff', 'excluded_insurance', 'held_duplicate_region', 'not_in_register', 'not_local_household', 'no_second_gen_id', 'police_mismatch', 'eligible')", name=op.f('ck_batch_person_eligibility')),
    sa.CheckConstraint("entry IN ('out', 'not_returned', 'entered', 'sent_back', 'accepted')", name=op.f('ck_batch_person_entry')),
    sa.CheckConstraint("production IS NULL OR production IN ('ordered', 'made', 'accepted', 'missing', 'damaged')", name=op.f('ck_batch_person_production')),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_person_batch_id_batch')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_batch_person_card_id_card')),
    sa.ForeignKeyConstraint(['employer_id'], ['batch_employer.id'], name=op.f('fk_batch_person_employer_id_batch_employer')),
    sa.ForeignKeyConstraint(['taken_into'], ['batch.id'], name=op.f('fk_batch_person_taken_into_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_person')),
    sa.UniqueConstraint('batch_id', 'id_number', name='uq_batch_person')
    )
    with op.batch_alter_table('batch_person', schema=None) as batch_op:
        batch_op.create_index('ix_batch_person_roster', ['employer_id', 'seq'], unique=False)
        batch_op.create_index('ix_batch_person_status', ['batch_id', 'eligibility'], unique=False)

    op.create_table('batch_rejected_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('reason_zh', sa.Text(), nullable=False),
    sa.Column('reason_en', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_rejected_row_batch_id_batch')),
    sa.ForeignKeyConstraint(['upload_id'], ['batch_upload.id'], name=op.f('fk_batch_rejected_row_upload_id_batch_upload')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_rejected_row')),
    sa.UniqueConstraint('upload_id', 'row_no', name='uq_batch_rejected_row')
    )
    with op.batch_alter_table('batch_rejected_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_rejected_row_batch_id'), ['batch_id'], unique=False)

    op.create_table('batch_person_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['batch_person.id'], name=op.f('fk_batch_person_event_person_id_batch_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_person_event'))
    )
    with op.batch_alter_table('batch_person_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_person_event_person_id'), ['person_id'], unique=False)



def downgrade():
    with op.batch_alter_table('police_register_person', schema=None) as batch_op:
        batch_op.drop_column('photo')
    with op.batch_alter_table('batch_person_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_person_event_person_id'))

    op.drop_table('batch_person_event')
    with op.batch_alter_table('batch_rejected_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_rejected_row_batch_id'))

    op.drop_table('batch_rejected_row')
    with op.batch_alter_table('batch_person', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_person_status')
        batch_op.drop_index('ix_batch_person_roster')

    op.drop_table('batch_person')
    with op.batch_alter_table('batch_voucher_agent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_voucher_agent_voucher_id'))

    op.drop_table('batch_voucher_agent')
    with op.batch_alter_table('batch_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_upload_batch_id'))

    op.drop_table('batch_upload')
    with op.batch_alter_table('batch_production', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_production_batch_id'))

    op.drop_table('batch_production')
    with op.batch_alter_table('batch_employer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_employer_instance_id'))
        batch_op.drop_index(batch_op.f('ix_batch_employer_batch_id'))

    op.drop_table('batch_employer')
    with op.batch_alter_table('batch_contribution', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_contribution_line')
        batch_op.drop_index('ix_batch_contribution_person')

    op.drop_table('batch_contribution')
    op.drop_table('partner_bank')
    op.drop_table('city_setting')
    op.drop_table('city_region')
    with op.batch_alter_table('batch_voucher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_voucher_employer_code'))

    op.drop_table('batch_voucher')
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_instance_id'))

    op.drop_table('batch')
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_background_job_subject'))
        batch_op.drop_index(batch_op.f('ix_background_job_state'))

    op.drop_table('background_job')
