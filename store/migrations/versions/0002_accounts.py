"""Accounts: organizations with mail domains, users (grown from contacts) with addresses and roles,
queues with members, and contracts.

Every existing contact becomes a user with the role client and its address as primary address.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("default_locale", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("colleagues_may_continue", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "org_domain",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.PrimaryKeyConstraint("domain"),
    )
    op.create_index("ix_org_domain_organization_id", "org_domain", ["organization_id"])
    op.create_table(
        "queue",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    # contact -> user_account: same ids, so ticket.requester_id keeps pointing at the right person.
    op.rename_table("contact", "user_account")
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.create_foreign_key("fk_user_account_organization", "organization", ["organization_id"], ["id"])
        batch.create_index("ix_user_account_organization_id", ["organization_id"])

    op.create_table(
        "user_email",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_index("ix_user_email_user_id", "user_email", ["user_id"])
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role"),
    )
    op.execute("INSERT INTO user_email (address, user_id, is_primary) SELECT email, id, true FROM user_account")
    op.execute("INSERT INTO user_role (user_id, role) SELECT id, 'client' FROM user_account")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("email")
    if op.get_bind().dialect.name == "postgresql":
        # Rows inserted with explicit ids (restores, imports) must not collide with new ones.
        op.execute("SELECT setval(pg_get_serial_sequence('user_account', 'id'), "
                   "coalesce((SELECT max(id) FROM user_account), 0) + 1, false)")

    op.create_table(
        "queue_member",
        sa.Column("queue", sa.String(length=64), sa.ForeignKey("queue.name"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "user_id"),
    )
    op.create_table(
        "contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("billing_period", sa.String(length=16), nullable=False),
        sa.Column("sla_profile", sa.String(length=64), nullable=False),
        sa.Column("guarantor_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("monthly_fee", sa.Numeric(12, 2), nullable=False),
        sa.Column("hourly_rate", sa.Numeric(12, 2), nullable=False),
        sa.Column("included_minutes", sa.Integer(), nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("buyer_edi_id", sa.String(length=35), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index("ix_contract_organization_id", "contract", ["organization_id"])


def downgrade() -> None:
    raise NotImplementedError("accounts cannot be folded back into contacts without losing data")
