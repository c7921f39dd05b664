"""Where the database is and how to reach it, from the standard library alone (the lean
authorizer reads it without SQLAlchemy or pydantic; common.core.db builds its engine from it)."""

from __future__ import annotations

import os
import ssl
from typing import Any
from urllib.parse import quote, unquote, urlsplit


def url_from_secret(secret: dict[str, Any]) -> str:
    """The SQLAlchemy URL a database secret describes: `{"url"}` or RDS-style fields; what an
    RDS-managed secret lacks (host, port, dbname) comes from DATABASE_HOST, _PORT and _NAME."""
    if "url" in secret:
        return str(secret["url"])
    user, password = quote(secret["username"], safe=""), quote(secret["password"], safe="")
    host = secret.get("host") or os.environ.get("DATABASE_HOST")
    if not host:
        raise ValueError("the database secret has no host and DATABASE_HOST is not set")
    port = secret.get("port") or os.environ.get("DATABASE_PORT") or 5432
    name = secret.get("dbname") or os.environ.get("DATABASE_NAME") or "postgres"
    return f"postgresql+pg8000://{user}:{password}@{host}:{port}/{quote(str(name), safe='')}"


def pg8000_arguments(url: str) -> dict[str, Any]:
    """`pg8000.native.Connection`'s keyword arguments for a PostgreSQL URL."""
    parts = urlsplit(url)
    return {"host": parts.hostname or "localhost", "port": parts.port or 5432,
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password) if parts.password else None,
            "database": unquote(parts.path.lstrip("/")) or None,
            "ssl_context": tls_context()}


def proxy_host() -> str:
    """The RDS Proxy endpoint to connect through (DATABASE_PROXY_HOST), or "" for none."""
    return os.environ.get("DATABASE_PROXY_HOST", "").strip()


def tls_context(through_proxy: bool = False) -> ssl.SSLContext | None:
    """TLS as DATABASE_TLS says: verify-full (the CA bundle in DATABASE_CA_BUNDLE, else the
    system's), require (encrypted, unverified) or off (unset: off, as before the setting)."""
    mode = os.environ.get("DATABASE_TLS", "off").strip().lower()
    if through_proxy and mode != "require":
        # The proxy requires TLS whatever DATABASE_TLS says, and presents an ACM certificate
        # (Amazon's public roots, in the system store), not one signed by the RDS CA bundle.
        return ssl.create_default_context()
    if mode in ("", "off", "disable", "false"):
        return None
    if mode == "require":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if mode == "verify-full":
        bundle = os.environ.get("DATABASE_CA_BUNDLE") or None
        if bundle and not os.path.isfile(bundle):
            raise ValueError(f"DATABASE_TLS=verify-full trusts {bundle}, which is not there: "
                             "add the CA bundle to the layer (README, Deploying) or set "
                             "DatabaseCaBundle")
        return ssl.create_default_context(cafile=bundle)
    raise ValueError("DATABASE_TLS is verify-full, require or off")
