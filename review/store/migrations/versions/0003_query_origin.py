"""Where a search's query came from: run by casepool on E-utilities, or, for a saved result
loaded from a file, stated by the person who loaded it or assumed to be the protocol's
(PRISMA-S asks to report the search as it was run, so the log must tell them apart).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_runs") as table:
        table.add_column(sa.Column("query_origin", sa.Text()))
    op.execute("UPDATE search_runs SET query_origin = 'run' WHERE mode = 'eutils'")


def downgrade() -> None:
    with op.batch_alter_table("search_runs") as table:
        table.drop_column("query_origin")
