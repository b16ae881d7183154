"""Who acted: the person who recorded a protocol version and who took a dedup decision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("protocol_versions") as table:
        table.add_column(sa.Column("recorded_by", sa.Text()))
    with op.batch_alter_table("dedup_decisions") as table:
        table.add_column(sa.Column("decided_by", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("dedup_decisions") as table:
        table.drop_column("decided_by")
    with op.batch_alter_table("protocol_versions") as table:
        table.drop_column("recorded_by")
