"""One settings object per execution environment, read from the environment and validated once.

A plain pydantic model fed from `os.environ`: every field is a scalar named after its variable,
which is all pydantic-settings did here, and importing it cost every cold start about 100 ms
(this module's import in the packaged environment, median of 5: 268 ms with it, 170 without).
"""

import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Settings(BaseModel):
    """Configuration every function reads; names match the template's environment variables."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    stage: str = "dev"
    service_name: str = Field("pyairtable", validation_alias="powertools_service_name")
    version: str = "0.1.0"

    database_url: str | None = None
    database_secret_arn: str | None = None

    event_bus_name: str
    jwt_secret_arn: str
    cache_table_name: str
    uploads_bucket_name: str
    diagnostics_state_machine_arn: str
    file_import_state_machine_arn: str = ""
    file_export_state_machine_arn: str = ""
    # The generic workflow state machine (set for the workflows functions only).
    workflow_state_machine_arn: str | None = None
    token_key_id: str

    admin_emails: str = ""
    airtable_endpoint_url: str = "https://api.airtable.com"
    airtable_token_secret_arn: str | None = None
    # Requests per second per base (Airtable's 5); each is a row of the limiter's window, so a
    # "lifted" limit of 100,000 meant 100,000 rows locked per request: 0 turns the shared
    # limiter off instead (an endpoint without Airtable's limits, e.g. the emulator's off).
    airtable_rate_limit: float = Field(5.0, ge=0, le=50)
    # How long Airtable refuses a base after a 429 (its documented 30 s).
    airtable_lockout_seconds: float = 30.0
    allow_private_webhooks: bool = False
    # Outbound calls to users' URLs (common.core.outbound): https only unless turned off (locally),
    # and an optional hosts file consulted before DNS (local and test use only).
    outbound_https_only: bool = True
    outbound_hosts_file: str | None = None
    # Webhook deliveries: their queue, how many receives before the dead-letter queue (the
    # queue's maxReceiveCount, from the same template parameter) and the first backoff.
    webhook_queue_url: str = ""
    webhook_max_receives: int = 5
    webhook_retry_base_seconds: int = 30
    service_functions: str = ""
    # Sagas: `type=state machine ARN,...`, and the base where onboarding puts a sample table
    # (the demo base in `make dev`; none by default).
    saga_state_machines: str = ""
    onboarding_sample_base_id: str = ""
    # Operations (platform, admins): the stack's alarm name prefix, `name=queue URL,...` of the
    # dead-letter queues and `name=ARN,...` of the Standard state machines.
    alarm_name_prefix: str = ""
    dead_letter_queues: str = ""
    operated_state_machines: str = ""

    # Tenancy: who may register, and where the deployment's Airtable token appears.
    registration: str = "invite"
    default_connection: str = "admins"
    # Email: the sender, the web UI the links point to, and (locally) a folder of .eml copies.
    mail_from: str = "no-reply@pyairtable.local"
    web_url: str = "http://127.0.0.1:3000"
    mail_dir: str | None = None
    # Calls per minute from one IP to each public auth route (login, register, forgot, verify).
    auth_ip_limit_per_minute: int = 30
    # Per-workspace quotas (one member must not crowd out the others): invitations per hour
    # per workspace and per inviter; enabled workflows whose schedule fires more often than
    # every 5 minutes; running sagas and imports per base; analytics events (bytes each,
    # per minute, days kept).
    invitations_per_hour_per_workspace: int = Field(20, ge=1)
    invitations_per_hour_per_inviter: int = Field(50, ge=1)
    frequent_schedules_per_workspace: int = Field(5, ge=0)
    running_sagas_per_base: int = Field(4, ge=1)
    running_imports_per_base: int = Field(3, ge=1)
    analytics_event_max_bytes: int = Field(4096, ge=256)
    analytics_events_per_minute: int = Field(120, ge=1)
    analytics_retention_days: int = Field(90, ge=1)

    jwt_issuer: str = "pyairtable"
    jwt_audience: str = "pyairtable-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    @classmethod
    def from_environment(cls, **overrides: Any) -> "Settings":
        """Each field from the variable of its name in any case, as the template sets them
        (`POWERTOOLS_SERVICE_NAME` for `service_name`), then `overrides`."""
        values = {name.lower(): value for name, value in os.environ.items()}
        return cls.model_validate({**values, **overrides})

    @model_validator(mode="after")
    def _database_configured(self) -> "Settings":
        if not (self.database_url or self.database_secret_arn):
            raise ValueError("set DATABASE_URL or DATABASE_SECRET_ARN")
        return self

    @field_validator("registration")
    @classmethod
    def _registration_mode(cls, value: str) -> str:
        value = value.strip().lower()
        domains = value.removeprefix("domains:").split(",") if value.startswith("domains:") else []
        if value not in ("open", "invite") and not any(d.strip() for d in domains):
            raise ValueError("REGISTRATION is open, invite or domains:<a.com,b.org>")
        return value

    @property
    def registration_mode(self) -> str | frozenset[str]:
        """"open", "invite", or the set of email domains that may register."""
        if self.registration.startswith("domains:"):
            return frozenset(d.strip().lstrip("@") for d in self.registration[8:].split(",")
                             if d.strip())
        return self.registration

    @property
    def admin_email_set(self) -> frozenset[str]:
        """Admin emails, normalised to lower case."""
        return frozenset(e.strip().lower() for e in self.admin_emails.split(",") if e.strip())

    @property
    def service_function_map(self) -> dict[str, str]:
        """`auth=fn-name,users=...` parsed into a dict (platform's aggregate health)."""
        return name_pairs(self.service_functions)


def name_pairs(text: str) -> dict[str, str]:
    """`a=x,b=y` (how the template passes several names in one variable) as a dict."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {name.strip(): value.strip() for name, value in pairs}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings built once; a missing required variable fails the cold start, not a request."""
    return Settings.from_environment()
