"""batch_document: PDFs of an employer's documents made by a background job

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batch_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['batch_employer.id'], name=op.f('fk_batch_document_employer_id_batch_employer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_document'))
    )
    with op.batch_alter_table('batch_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_document_employer_id'), ['employer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('batch_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_document_employer_id'))
    op.drop_table('batch_document')
