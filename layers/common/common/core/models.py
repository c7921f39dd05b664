"""The relational schema (SQLAlchemy 2.x declarative); changes go through Alembic migrations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    """An opaque, unguessable id."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the models use."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is aware UTC on the way in and out, whatever the database keeps."""

    # SQLite has no time zone type: it hands back naive values, which are UTC because this
    # type converted them on the way in. PostgreSQL's timestamptz needs nothing.
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; a naive value is taken as UTC, the only zone this code writes."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        """Aware UTC, also where the database returned a naive value."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base; timestamps are aware UTC on every database."""

    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class User(Base):
    """An account."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="member")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified_at: Mapped[datetime | None]
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def email_verified(self) -> bool:
        """Whether the account holder has proved they own `email`."""
        return self.email_verified_at is not None


class AuthSession(Base):
    """A login: the access tokens and refresh tokens issued for it die with it."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip: Mapped[str | None] = mapped_column(String(64))
    # A grant to an OAuth client (an AI agent): its tokens are for `audience` only.
    client_id: Mapped[str | None] = mapped_column(String(255))
    client_name: Mapped[str | None] = mapped_column(String(200))
    audience: Mapped[str | None] = mapped_column(String(512))


class OAuthClient(Base):
    """An OAuth client: registered (RFC 7591) or known by its metadata document's URL."""

    __tablename__ = "oauth_clients"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthCode(Base):
    """An authorization code (stored as its hash): spent once, within minutes, with its PKCE
    verifier, by the client and redirect URI it was issued to."""

    __tablename__ = "oauth_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255))
    client_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(String(512))
    scope: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]


class RefreshToken(Base):
    """One refresh token (stored as its hash); spent on use, and a spent one must never return."""

    __tablename__ = "refresh_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]


class ApiKey(Base):
    """A long-lived credential; only its hash and display prefix are stored."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Attempt counter per key: an account's password checks, an email's resets, an IP's calls."""

    __tablename__ = "login_throttle"
    identifier: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class AuditEntry(Base):
    """A security-relevant event, exposed to admins by the platform service."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_occurred_at", "occurred_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Notification(Base):
    """An in-app inbox entry."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # The web UI path of what the notification is about.
    link: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    source_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFile(Base):
    """An object in the uploads bucket: type checked by content, fingerprinted, in a workspace."""

    __tablename__ = "files"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(String(32), index=True)
    workspace_id: Mapped[str | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    # What the content turned out to be (csv, json, xlsx); None until checked.
    format: Mapped[str | None] = mapped_column(String(8))
    # A presigned upload's announced size, which the object must not exceed.
    declared_size: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileImport(Base):
    """An import of a file into an Airtable table, run chunk by chunk by a state machine."""

    __tablename__ = "file_imports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    # Who started it and through which connection: the tasks re-check both on every chunk.
    user_id: Mapped[str] = mapped_column(String(32))
    connection_id: Mapped[str] = mapped_column(String(64))
    base_id: Mapped[str] = mapped_column(String(32))
    table: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(255))
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    typecast: Mapped[bool] = mapped_column(Boolean, default=False)
    merge_on: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    chunk_size: Mapped[int] = mapped_column(Integer, default=500)
    # Byte offsets of each chunk in the staged rows (S3 object `staging_key`).
    chunk_offsets: Mapped[list[int] | None] = mapped_column(JSON)
    staging_key: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    # The file's columns nothing was written from, and the table's name (job.table may be an id).
    ignored_columns: Mapped[list[str] | None] = mapped_column(JSON)
    table_name: Mapped[str | None] = mapped_column(String(255))
    # The airtable_transaction saga that undoes the import (POST /imports/{id}/undo).
    undo_saga_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class FileImportChunk(Base):
    """Progress of one chunk, committed after each batch: a retried chunk resumes, not repeats."""

    __tablename__ = "file_import_chunks"
    import_id: Mapped[str] = mapped_column(
        ForeignKey("file_imports.id", ondelete="CASCADE"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The batch sent but not yet confirmed: {"rows": [...], "at": epoch seconds}.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # For undo: what each request wrote, and what updated records held before (by field id).
    written: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FileImportFailure(Base):
    """A rejected row of an import: its 1-based data row number and why."""

    __tablename__ = "file_import_failures"
    import_id: Mapped[str] = mapped_column(
        ForeignKey("file_imports.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    error: Mapped[str] = mapped_column(Text)


class FileExport(Base):
    """An export of a table (or view) to a new CSV or JSON file."""

    __tablename__ = "file_exports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    connection_id: Mapped[str] = mapped_column(String(64))
    base_id: Mapped[str] = mapped_column(String(32))
    table: Mapped[str] = mapped_column(String(255))
    view: Mapped[str | None] = mapped_column(String(255))
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    file_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class JobRun(Base):
    """One run of a scheduled job, with what it did."""

    __tablename__ = "job_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DiagnosticRun(Base):
    """State of one diagnostics state-machine execution (written idempotently by its tasks)."""

    __tablename__ = "diagnostic_runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    probe_attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="probing")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AirtableConnection(Base):
    """A workspace's Airtable token, stored only as KMS ciphertext (or the deployment's own)."""

    __tablename__ = "airtable_connections"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    # Who added it (the connection belongs to the workspace, not to them).
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Set for the deployment's token attached to a workspace: nothing is stored, it is read
    # from the deployment's secret when used.
    uses_default: Mapped[bool] = mapped_column(Boolean, default=False)
    token_ciphertext: Mapped[str | None] = mapped_column(Text)
    token_last4: Mapped[str] = mapped_column(String(4))
    airtable_user_id: Mapped[str | None] = mapped_column(String(32))
    default_base_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AirtableRateWindow(Base):
    """One of the shared limiter's request slots of a base or token key: when its last request
    was sent and answered (epoch seconds; no answer yet while in flight)."""

    __tablename__ = "airtable_rate_window"
    rate_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[float] = mapped_column(default=0.0)
    answered_at: Mapped[float | None] = mapped_column(default=0.0)


class Workspace(Base):
    """A tenant: members with roles share its connections, workflows, sagas and files."""

    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    # The personal workspace of this user (made at registration); None for shared ones.
    personal_of: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkspaceMember(Base):
    """A user's role in a workspace: owner, editor or viewer."""

    __tablename__ = "workspace_members"
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkspaceInvitation(Base):
    """An invitation by email; only the hash of its single-use token is stored."""

    __tablename__ = "workspace_invitations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None]


class EmailToken(Base):
    """A single-use token sent by email (verification, password reset); stored as its hash."""

    __tablename__ = "email_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Workflow(Base):
    """A workspace's automation: a trigger and a list of steps, run by the workflow machine."""

    __tablename__ = "workflows"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Runs use this member's Airtable access: the last editor who saved the definition.
    run_as: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    trigger: Mapped[dict[str, Any]] = mapped_column(default=dict)
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Webhook triggers: the signing secret, KMS-encrypted (it must be read back to verify).
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    # Schedule triggers: when the scheduler starts the next run.
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    # airtable_change triggers: the Airtable webhook watched and its payload cursor.
    watch: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkflowExecution(Base):
    """One run of a workflow, with the definition it ran (later edits do not change history)."""

    __tablename__ = "workflow_executions"
    # One run per trigger event: a schedule slot, a webhook signature, an uploaded file...
    __table_args__ = (UniqueConstraint("workflow_id", "trigger_key",
                                       name="uq_workflow_executions_trigger_key"),
                      Index("ix_workflow_executions_workflow_started", "workflow_id",
                            "started_at"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    trigger_type: Mapped[str] = mapped_column(String(32))
    trigger_key: Mapped[str | None] = mapped_column(String(200))
    started_by: Mapped[str | None] = mapped_column(String(32))
    run_as: Mapped[str | None] = mapped_column(String(32))
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    definition: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state_machine_execution: Mapped[str | None] = mapped_column(String(2048))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class WorkflowStepRun(Base):
    """What one step of an execution got and gave: resolved config, output, error, timings."""

    __tablename__ = "workflow_step_runs"
    execution_id: Mapped[str] = mapped_column(
        ForeignKey("workflow_executions.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    input: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    output_bytes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Saga(Base):
    """A saga's current state: a projection of its append-only log, kept in the same commits."""

    __tablename__ = "sagas"
    __table_args__ = (Index("ix_sagas_workspace_created", "workspace_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="running")
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The execution applying the saga, and the one compensating it (failure, cancel or undo).
    execution_arn: Mapped[str | None] = mapped_column(String(2048))
    compensation_arn: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class SagaLogEntry(Base):
    """One fact about a saga, never updated or deleted: what was started, applied, undone.

    `key` makes every task idempotent: a retried task that finds its key already logged knows
    the work is done (or was begun) and never writes twice.
    """

    __tablename__ = "saga_log"
    __table_args__ = (UniqueConstraint("saga_id", "key", name="uq_saga_log_saga_key"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    saga_id: Mapped[str] = mapped_column(ForeignKey("sagas.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(48))
    step: Mapped[int | None] = mapped_column(Integer)
    chunk: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AirtableSnapshot(Base):
    """A table of an Airtable base copied into its own SQL table by an integration saga."""

    __tablename__ = "airtable_snapshots"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"),
                                              index=True)
    saga_id: Mapped[str] = mapped_column(String(32), index=True)
    base_id: Mapped[str] = mapped_column(String(32))
    table_id: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(255))
    sql_table: Mapped[str] = mapped_column(String(63), unique=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(Base):
    """A user's channels per event type (`{"defaults": {...}, "types": {type: {...}}}`)."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Webhook(Base):
    """An outbound webhook of a workspace; its signing secret is stored as KMS ciphertext."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: sent until it succeeds, is refused or is dead-lettered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),
                      Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    # The body as signed and sent: {id, type, created_at, data}.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A sender holds the delivery until then; a duplicate message meanwhile waits its turn.
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One try at sending a delivery, as the delivery log shows it."""

    __tablename__ = "webhook_attempts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(default=0.0)


class AnalyticsEvent(Base):
    """An analytics event a client recorded (POST /api/platform/events)."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_user_occurred", "user_id", "occurred_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageDay(Base):
    """A user's API usage on one UTC day, summed from the functions' EMF log lines."""

    __tablename__ = "usage_days"
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    airtable_requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class ServiceLatency(Base):
    """Requests of one service in one hour whose latency fell in one histogram bucket."""

    __tablename__ = "service_latency"
    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[str] = mapped_column(String(13), primary_key=True)  # YYYY-MM-DDTHH
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    client_errors: Mapped[int] = mapped_column(Integer, default=0)
    server_errors: Mapped[int] = mapped_column(Integer, default=0)


class UsageBatch(Base):
    """A batch of log events already counted (subscriptions may deliver a batch twice)."""

    __tablename__ = "usage_batches"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
