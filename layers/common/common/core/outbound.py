"""Outbound HTTP to URLs users choose (webhooks, the workflow `http_request` step).

One address rule for every such request, checked when the URL is accepted and again on the
address actually connected to (a name may resolve elsewhere by then: DNS rebinding):

- link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), and
  unspecified, multicast and reserved ones, are always refused;
- private, shared (100.64.0.0/10) and loopback addresses are refused unless the
  `ALLOW_PRIVATE_WEBHOOKS` setting is on;
- only https when the `OUTBOUND_HTTPS_ONLY` setting is on (the default; the local runtime
  turns it off).

`send` resolves the name once, checks every address, then connects to the checked address
itself (TLS still verifies the certificate against the name), follows no redirects, and bounds
both the time and the size of the response.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from common.core.errors import UpstreamError, ValidationFailed
from common.core.observability import trace_library
from common.core.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
_METADATA = (ipaddress.ip_address("fd00:ec2::254"),)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
# IANA special-purpose ranges Python's ipaddress counts as global: IETF protocol assignments
# (192.0.0.0/24, e.g. 192.0.0.192) and the deprecated 6to4 relay anycast.
_SPECIAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24"))
# IPv6 prefixes that carry an IPv4 address a gateway would forward to: NAT64 (RFC 6052/8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class RefusedTarget(ValidationFailed):
    """The URL, or the address its name resolves to, may not be called."""

    def __init__(self, problem: str, field_name: str = "url") -> None:
        super().__init__(f"This URL may not be called: {problem}.",
                         details=[{"field": field_name, "problem": problem}])
        self.problem = problem


class OutboundError(UpstreamError):
    """The target could not be reached or did not answer in time."""


@dataclass(frozen=True)
class Policy:
    """What outbound requests may reach."""

    https_only: bool = True
    allow_private: bool = False
    hosts_file: str | None = None


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...] = ()


@dataclass
class OutboundResponse:
    """What the target answered (the body at most `max_response_bytes` long)."""

    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool
    address: str
    elapsed_ms: float = 0.0
    reason: str = ""


def policy() -> Policy:
    """The deployment's policy, from the settings."""

    settings = get_settings()
    return Policy(https_only=settings.outbound_https_only,
                  allow_private=settings.allow_private_webhooks,
                  hosts_file=settings.outbound_hosts_file)


def refusal(address: str, allow_private: bool) -> str | None:
    """Why this address may not be called, or None when it may."""
    ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    embedded = _embedded_ipv4(ip)
    if embedded is not None:  # 6to4, Teredo, NAT64: the IPv4 address is the real target
        problem = refusal(str(embedded), allow_private)
        if problem is not None:
            return f"{ip} carries {embedded}, and {problem}"
        if ip.is_private or any(ip in n for n in _NAT64):
            return f"{ip} is a translation address"
        return None
    if any(ip in n for n in _SPECIAL):
        return f"{ip} is a special-purpose address"
    if ip.is_link_local or ip in _METADATA:
        return f"{ip} is a link-local or metadata address"
    if ip.is_loopback:  # before the reserved check: ::1 lies in IPv6's reserved ::/8
        return None if allow_private else f"{ip} is a loopback address"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return f"{ip} is not a routable unicast address"
    if (ip.is_private or ip in _SHARED) and not allow_private:
        return f"{ip} is a private address"
    if not ip.is_global and not ip.is_private and ip not in _SHARED:
        return f"{ip} is not a public address"
    return None


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address carries, if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in n for n in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def parse(url: str, rule: Policy | None = None, field_name: str = "url") -> Target:
    """The URL's parts, refused when its scheme or shape is not allowed (no DNS yet)."""
    rule = rule or policy()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise RefusedTarget("not a valid URL", field_name) from e
    allowed = ("https",) if rule.https_only else ("https", "http")
    if parts.scheme not in allowed:
        raise RefusedTarget(f"the scheme must be {' or '.join(allowed)}", field_name)
    if not parts.hostname:
        raise RefusedTarget("the URL has no host", field_name)
    if parts.username or parts.password:
        raise RefusedTarget("credentials in the URL are not accepted", field_name)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=parts.hostname.lower().rstrip("."),
                  port=port or (443 if parts.scheme == "https" else 80), path=path)


def resolve(host: str, port: int, rule: Policy | None = None) -> list[str]:
    """The addresses `host` resolves to: the hosts file of the policy first, then DNS."""
    rule = rule or policy()
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if rule.hosts_file:
        mapped = _hosts_entries(rule.hosts_file).get(host)
        if mapped:
            return mapped
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise RefusedTarget(f"the host name {host} does not resolve") from e
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _hosts_entries(path: str) -> dict[str, list[str]]:
    # Read on every lookup: a test (or a developer) changes it to play DNS, rebinding included.
    entries: dict[str, list[str]] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return entries
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        for name in words[1:]:
            entries.setdefault(name.lower(), []).append(words[0])
    return entries


def check_url(url: str, rule: Policy | None = None, resolver: Resolver | None = None,
              field_name: str = "url") -> Target:
    """The URL checked as when it is accepted: scheme, shape and every resolved address."""
    rule = rule or policy()
    target = parse(url, rule, field_name)
    addresses = (resolver or (lambda h, p: resolve(h, p, rule)))(target.host, target.port)
    if not addresses:
        raise RefusedTarget(f"the host name {target.host} does not resolve", field_name)
    for address in addresses:
        reason = refusal(address, rule.allow_private)
        if reason:
            raise RefusedTarget(reason, field_name)
    return Target(target.scheme, target.host, target.port, target.path, tuple(addresses))


def send(method: str, url: str, *, headers: Mapping[str, str] | None = None,
         body: bytes | None = None, timeout: float = DEFAULT_TIMEOUT,
         max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, rule: Policy | None = None,
         resolver: Resolver | None = None) -> OutboundResponse:
    """One request to a checked address; `RefusedTarget` or `OutboundError` when it can't be."""
    target = check_url(url, rule, resolver)
    address = target.addresses[0]
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    connection = _connection(target, address, timeout)
    try:
        request_headers = {"Host": _host_header(target), "User-Agent": "PyAirtable-Outbound/1",
                           "Connection": "close", **(headers or {})}
        connection.request(method.upper(), target.path, body=body, headers=request_headers)
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        truncated = False
        while True:
            if time.monotonic() > deadline:
                raise OutboundError(f"No complete answer within {timeout:g} s.")
            chunk = response.read(min(65536, max_response_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_response_bytes:
                truncated = True
                break
        data = b"".join(chunks)[:max_response_bytes]
        return OutboundResponse(status=response.status, headers=dict(response.getheaders()),
                                body=data, truncated=truncated, address=address,
                                elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
                                reason=response.reason)
    except (OSError, http.client.HTTPException) as e:
        raise OutboundError(f"The request failed: {type(e).__name__}.") from e
    finally:
        connection.close()


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def _connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    trace_library("httplib")
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target.host, address, target.port, timeout)
    return _PinnedHTTPConnection(address, target.port, timeout=timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to the checked address (the Host header carries the name)."""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with SNI and certificate checks against the name."""

    def __init__(self, hostname: str, address: str, port: int, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout)
        self._hostname = hostname
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        # `self.host` is the checked address; the name is used only for SNI and the certificate.
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self._hostname)
