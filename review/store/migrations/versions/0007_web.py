"""Team mode: reviewer accounts, login sessions (by the hash of their token) and failed
logins (for the login rate limit).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("added_at", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text()),
        sa.CheckConstraint("role IN ('lead', 'reviewer')", name="web_users_role"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.Text(), primary_key=True),
        sa.Column("user_name", sa.Text(), sa.ForeignKey("web_users.name"), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
    )
    op.create_index("web_sessions_user", "web_sessions", ["user_name"])
    op.create_table(
        "web_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
    )
    op.create_index("web_login_failures_user", "web_login_failures", ["user_name", "at"])
    op.create_index("web_login_failures_address", "web_login_failures", ["address", "at"])


def downgrade() -> None:
    op.drop_index("web_login_failures_address", table_name="web_login_failures")
    op.drop_index("web_login_failures_user", table_name="web_login_failures")
    op.drop_table("web_login_failures")
    op.drop_index("web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
