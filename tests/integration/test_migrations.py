"""Migrations carry existing data forward: users and connections move into workspaces."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from common.core.migrate import upgrade
from tests.conftest import reset_database
from tests.helpers import sibling_database


def test_existing_users_get_a_personal_workspace_holding_their_connections(database_url):
    url = sibling_database(database_url, "migrations")
    reset_database(url, revision="0002")
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for user_id, email in (("u1", "Ann@Example.com"), ("u2", "bob@example.com")):
            conn.execute(text(
                "INSERT INTO users (id, email, password_hash, role, is_active, preferences, "
                "created_at, updated_at) VALUES (:id, :email, 'x', 'member', true, '{}', :now, "
                ":now)"), {"id": user_id, "email": email, "now": now})
        conn.execute(text(
            "INSERT INTO airtable_connections (id, user_id, name, token_ciphertext, token_last4, "
            "created_at) VALUES ('c1', 'u1', 'Mine', 'cipher', 'abcd', :now)"), {"now": now})
    upgrade(url)
    with engine.connect() as conn:
        members = conn.execute(text(
            "SELECT m.user_id, m.role, w.name, w.personal_of FROM workspace_members m "
            "JOIN workspaces w ON w.id = m.workspace_id ORDER BY m.user_id")).all()
        connection = conn.execute(text(
            "SELECT w.personal_of, c.uses_default FROM airtable_connections c "
            "JOIN workspaces w ON w.id = c.workspace_id")).all()
        emails = conn.execute(text("SELECT email FROM users ORDER BY id")).scalars().all()
    engine.dispose()
    assert [tuple(m) for m in members] == [("u1", "owner", "Personal", "u1"),
                                           ("u2", "owner", "Personal", "u2")]
    assert [tuple(c) for c in connection] == [("u1", False)]
    assert emails == ["ann@example.com", "bob@example.com"]
