"""model review: a new version of a deployed process is a draft until a second person approves it

Revision ID: 0007b
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007b'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_model_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('base_model_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by', sa.String(length=150), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reviewed_by', sa.String(length=150), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('deployed_model_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('draft', 'approved', 'rejected')", name=op.f('ck_process_model_draft_state')),
    sa.ForeignKeyConstraint(['base_model_id'], ['process_model.id'],
                            name=op.f('fk_process_model_draft_base_model_id_process_model')),
    sa.ForeignKeyConstraint(['deployed_model_id'], ['process_model.id'],
                            name=op.f('fk_process_model_draft_deployed_model_id_process_model')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_model_draft'))
    )
    with op.batch_alter_table('process_model_draft', schema=None) as batch_op:
        batch_op.create_index('ix_process_model_draft_state_key', ['state', 'process_key'], unique=False)


def downgrade():
    with op.batch_alter_table('process_model_draft', schema=None) as batch_op:
        batch_op.drop_index('ix_process_model_draft_state_key')
    op.drop_table('process_model_draft')
