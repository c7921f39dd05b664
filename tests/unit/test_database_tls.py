"""The database connection as deployed: the secret's two shapes, and TLS verified against the
CA bundle (pg8000 verifies nothing without an ssl_context). The TLS tests face the engine with
a listener that answers PostgreSQL's SSLRequest and completes the handshake with a certificate
from a CA made here, so what is checked is the engine's real handshake."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.exc import DBAPIError

from common.core import db
from common.core.database_address import tls_context, url_from_secret


def test_an_rds_managed_secret_takes_host_port_and_name_from_the_parameters(monkeypatch):
    monkeypatch.setenv("DATABASE_HOST", "db.abc.us-east-1.rds.amazonaws.com")
    monkeypatch.setenv("DATABASE_PORT", "5433")
    monkeypatch.setenv("DATABASE_NAME", "pyairtable")
    assert url_from_secret({"username": "admin", "password": "p@ss/word"}) == (
        "postgresql+pg8000://admin:p%40ss%2Fword@db.abc.us-east-1.rds.amazonaws.com:5433/"
        "pyairtable")


def test_a_secret_with_host_and_dbname_wins_over_the_parameters(monkeypatch):
    monkeypatch.setenv("DATABASE_HOST", "ignored")
    secret = {"username": "u", "password": "p", "host": "h", "port": 5432, "dbname": "d"}
    assert url_from_secret(secret) == "postgresql+pg8000://u:p@h:5432/d"
    assert url_from_secret({"url": "postgresql+pg8000://x@y/z"}) == "postgresql+pg8000://x@y/z"


def test_a_secret_without_a_host_and_no_parameter_is_refused(monkeypatch):
    monkeypatch.delenv("DATABASE_HOST", raising=False)
    with pytest.raises(ValueError, match="DATABASE_HOST"):
        url_from_secret({"username": "u", "password": "p"})


def _ca(tmp: Path, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, path


@pytest.fixture
def tls_database(tmp_path: Path) -> Iterator[tuple[int, Path, list[str]]]:
    """A port whose listener answers SSLRequest with 'S' and a certificate for localhost signed
    by a CA whose bundle is returned; handshakes it completed are recorded."""
    ca, ca_key, bundle = _ca(tmp_path, "test-rds-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "server.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    handshakes: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(8)  # SSLRequest
                conn.sendall(b"S")
                try:
                    with server_context.wrap_socket(conn, server_side=True) as tls:
                        handshakes.append(tls.version() or "")
                except (ssl.SSLError, OSError):
                    pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1], bundle, handshakes
    finally:
        listener.close()


def _connect(port: int) -> None:
    engine = db._engine(f"postgresql+pg8000://u:p@localhost:{port}/d")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def test_verify_full_completes_the_handshake_with_the_bundles_ca(tls_database, monkeypatch):
    port, bundle, handshakes = tls_database
    monkeypatch.setenv("DATABASE_TLS", "verify-full")
    monkeypatch.setenv("DATABASE_CA_BUNDLE", str(bundle))
    with pytest.raises(DBAPIError):  # the listener speaks no PostgreSQL after TLS
        _connect(port)
    assert handshakes and handshakes[0].startswith("TLS")


def test_verify_full_refuses_a_certificate_from_another_ca(tls_database, monkeypatch, tmp_path):
    port, _, handshakes = tls_database
    _, _, other = _ca(tmp_path, "another-ca")
    monkeypatch.setenv("DATABASE_TLS", "verify-full")
    monkeypatch.setenv("DATABASE_CA_BUNDLE", str(other))
    with pytest.raises(ssl.SSLCertVerificationError):
        _connect(port)
    assert handshakes == []


def test_require_encrypts_without_verifying(tls_database, monkeypatch):
    port, _, handshakes = tls_database
    monkeypatch.setenv("DATABASE_TLS", "require")
    monkeypatch.delenv("DATABASE_CA_BUNDLE", raising=False)
    with pytest.raises(DBAPIError):
        _connect(port)
    assert handshakes


def test_a_missing_bundle_is_named_before_any_connection(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_TLS", "verify-full")
    monkeypatch.setenv("DATABASE_CA_BUNDLE", str(tmp_path / "rds-global-bundle.pem"))
    with pytest.raises(ValueError, match=r"rds-global-bundle\.pem"):
        tls_context()
