"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('prm_sync_run_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_bytes', sa.BigInteger(), nullable=False),
    sa.Column('options', sa.String(length=200), nullable=False),
    sa.Column('sheet', sa.String(length=255), nullable=True),
    sa.Column('header_row', sa.Integer(), nullable=True),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_processed', sa.Integer(), nullable=False),
    sa.Column('rows_imported', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('retailers_created', sa.Integer(), nullable=False),
    sa.Column('retailers_updated', sa.Integer(), nullable=False),
    sa.Column('products_created', sa.Integer(), nullable=False),
    sa.Column('activations_new', sa.Integer(), nullable=False),
    sa.Column('stock_units', sa.Integer(), nullable=False),
    sa.Column('errors_total', sa.Integer(), nullable=False),
    sa.Column('warnings_total', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('started_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prm_sync_run_log'))
    )
    with op.batch_alter_table('prm_sync_run_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prm_sync_run_log_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_prm_sync_run_log_status'), ['status'], unique=False)

    op.create_table('products',
    sa.Column('goods_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('price', sa.BigInteger(), nullable=True),
    sa.Column('category_locked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('goods_id', name=op.f('pk_products'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_name'), ['name'], unique=False)

    op.create_table('tally_ledger_cache',
    sa.Column('ledger_key', sa.String(length=255), nullable=False),
    sa.Column('ledger_name', sa.String(length=255), nullable=False),
    sa.Column('parent', sa.String(length=255), nullable=True),
    sa.Column('group_name', sa.String(length=255), nullable=True),
    sa.Column('closing_balance', sa.BigInteger(), nullable=False),
    sa.Column('is_blank', sa.Boolean(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('ledger_key', name=op.f('pk_tally_ledger_cache'))
    )
    with op.batch_alter_table('tally_ledger_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_ledger_cache_fetched_at'), ['fetched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tally_ledger_cache_group_name'), ['group_name'], unique=False)

    op.create_table('device_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('imei', sa.String(length=15), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_retailer', sa.String(length=64), nullable=True),
    sa.Column('to_retailer', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['prm_sync_run_log.id'], name=op.f('fk_device_events_run_id_prm_sync_run_log')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_events'))
    )
    with op.batch_alter_table('device_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_events_imei'), ['imei'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_events_run_id'), ['run_id'], unique=False)

    op.create_table('price_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('goods_id', sa.String(length=64), nullable=False),
    sa.Column('old_price', sa.BigInteger(), nullable=True),
    sa.Column('new_price', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['goods_id'], ['products.goods_id'], name=op.f('fk_price_history_goods_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_history'))
    )
    with op.batch_alter_table('price_history', schema=None) as batch_op:
        batch_op.create_index('ix_price_history_goods_changed', ['goods_id', 'changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_history_source'), ['source'], unique=False)

    op.create_table('prm_sync_row_error',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.Column('column', sa.String(length=100), nullable=True),
    sa.Column('value', sa.String(length=255), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['prm_sync_run_log.id'], name=op.f('fk_prm_sync_row_error_run_id_prm_sync_run_log'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prm_sync_row_error'))
    )
    with op.batch_alter_table('prm_sync_row_error', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prm_sync_row_error_run_id'), ['run_id'], unique=False)

    op.create_table('retailers',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('tally_ledger_name', sa.String(length=255), nullable=True),
    sa.Column('first_seen_run', sa.Integer(), nullable=True),
    sa.Column('last_seen_run', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['first_seen_run'], ['prm_sync_run_log.id'], name=op.f('fk_retailers_first_seen_run_prm_sync_run_log')),
    sa.ForeignKeyConstraint(['last_seen_run'], ['prm_sync_run_log.id'], name=op.f('fk_retailers_last_seen_run_prm_sync_run_log')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_retailers'))
    )
    with op.batch_alter_table('retailers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retailers_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_retailers_tally_ledger_name'), ['tally_ledger_name'], unique=False)

    op.create_table('activations',
    sa.Column('imei', sa.String(length=15), nullable=False),
    sa.Column('retailer_code', sa.String(length=64), nullable=True),
    sa.Column('goods_id', sa.String(length=64), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_run', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['goods_id'], ['products.goods_id'], name=op.f('fk_activations_goods_id_products')),
    sa.ForeignKeyConstraint(['recorded_run'], ['prm_sync_run_log.id'], name=op.f('fk_activations_recorded_run_prm_sync_run_log')),
    sa.ForeignKeyConstraint(['retailer_code'], ['retailers.code'], name=op.f('fk_activations_retailer_code_retailers')),
    sa.PrimaryKeyConstraint('imei', name=op.f('pk_activations'))
    )
    with op.batch_alter_table('activations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activations_activated_at'), ['activated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_activations_goods_id'), ['goods_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activations_retailer_code'), ['retailer_code'], unique=False)

    op.create_table('devices',
    sa.Column('imei', sa.String(length=15), nullable=False),
    sa.Column('imei2', sa.String(length=15), nullable=True),
    sa.Column('serial', sa.String(length=64), nullable=True),
    sa.Column('goods_id', sa.String(length=64), nullable=False),
    sa.Column('retailer_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('inward_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activation_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_run', sa.Integer(), nullable=False),
    sa.Column('last_seen_run', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['goods_id'], ['products.goods_id'], name=op.f('fk_devices_goods_id_products')),
    sa.ForeignKeyConstraint(['retailer_code'], ['retailers.code'], name=op.f('fk_devices_retailer_code_retailers')),
    sa.PrimaryKeyConstraint('imei', name=op.f('pk_devices'))
    )
    op.create_table('prm_inventory_snapshot',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('retailer_code', sa.String(length=64), nullable=False),
    sa.Column('goods_id', sa.String(length=64), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['goods_id'], ['products.goods_id'], name=op.f('fk_prm_inventory_snapshot_goods_id_products')),
    sa.ForeignKeyConstraint(['retailer_code'], ['retailers.code'], name=op.f('fk_prm_inventory_snapshot_retailer_code_retailers')),
    sa.ForeignKeyConstraint(['run_id'], ['prm_sync_run_log.id'], name=op.f('fk_prm_inventory_snapshot_run_id_prm_sync_run_log')),
    sa.PrimaryKeyConstraint('run_id', 'retailer_code', 'goods_id', name=op.f('pk_prm_inventory_snapshot'))
    )


def downgrade() -> None:
    op.drop_table('prm_inventory_snapshot')
    op.drop_table('devices')
    with op.batch_alter_table('activations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activations_retailer_code'))
        batch_op.drop_index(batch_op.f('ix_activations_goods_id'))
        batch_op.drop_index(batch_op.f('ix_activations_activated_at'))

    op.drop_table('activations')
    with op.batch_alter_table('retailers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retailers_tally_ledger_name'))
        batch_op.drop_index(batch_op.f('ix_retailers_name'))

    op.drop_table('retailers')
    with op.batch_alter_table('prm_sync_row_error', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prm_sync_row_error_run_id'))

    op.drop_table('prm_sync_row_error')
    with op.batch_alter_table('price_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_history_source'))
        batch_op.drop_index('ix_price_history_goods_changed')

    op.drop_table('price_history')
    with op.batch_alter_table('device_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_events_run_id'))
        batch_op.drop_index(batch_op.f('ix_device_events_imei'))

    op.drop_table('device_events')
    with op.batch_alter_table('tally_ledger_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_ledger_cache_group_name'))
        batch_op.drop_index(batch_op.f('ix_tally_ledger_cache_fetched_at'))

    op.drop_table('tally_ledger_cache')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_name'))
        batch_op.drop_index(batch_op.f('ix_products_category'))

    op.drop_table('products')
    with op.batch_alter_table('prm_sync_run_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prm_sync_run_log_status'))
        batch_op.drop_index(batch_op.f('ix_prm_sync_run_log_file_sha256'))

    op.drop_table('prm_sync_run_log')
