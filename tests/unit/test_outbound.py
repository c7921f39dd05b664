"""The outbound address rule: what a webhook or a workflow's http_request may reach."""

from __future__ import annotations

import http.server
import threading

import pytest

from common.core import outbound
from common.core.outbound import OutboundError, Policy, RefusedTarget

STRICT = Policy(https_only=True, allow_private=False)
LOCAL = Policy(https_only=False, allow_private=True)


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.0.1", "fe80::1",
                                     "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_link_local_and_metadata_addresses_are_refused_even_when_private_ones_are_allowed(address):
    assert outbound.refusal(address, allow_private=True)
    assert outbound.refusal(address, allow_private=False)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.9",
                                     "192.168.1.1", "fc00::1", "100.64.0.1",
                                     "::ffff:127.0.0.1"])
def test_private_and_loopback_addresses_are_refused_unless_allowed(address):
    assert outbound.refusal(address, allow_private=False)
    assert outbound.refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "224.0.0.1", "240.0.0.1", "::"])
def test_unroutable_addresses_are_always_refused(address):
    assert outbound.refusal(address, allow_private=True)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:84e5",
                                     "2002:5db8:d822::1"])  # 6to4 of a public address
def test_public_addresses_are_allowed(address):
    assert outbound.refusal(address, allow_private=False) is None


@pytest.mark.parametrize(("address", "carried"), [
    ("2002:a9fe:a9fe::1", "169.254.169.254"),                    # 6to4
    ("2001:0:4136:e378:8000:63bf:5601:5601", "169.254.169.254"),  # Teredo (client inverted)
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"),                   # NAT64, well-known prefix
    ("64:ff9b:1::7f00:1", "127.0.0.1"),                          # NAT64, local-use prefix
])
def test_an_ipv4_address_carried_in_ipv6_is_judged_as_itself(address, carried):
    problem = outbound.refusal(address, allow_private=carried != "127.0.0.1")
    assert problem and carried in problem


@pytest.mark.parametrize("address", ["192.0.0.192", "192.0.0.8", "192.88.99.1",
                                     "64:ff9b::5db8:d822"])
def test_special_purpose_ranges_python_calls_global_are_refused(address):
    assert outbound.refusal(address, allow_private=False)


def test_https_only_refuses_plain_http():
    with pytest.raises(RefusedTarget, match="scheme must be https"):
        outbound.parse("http://example.com/hook", STRICT)
    assert outbound.parse("http://example.com/hook", LOCAL).port == 80


@pytest.mark.parametrize("url", ["ftp://example.com/", "https:///nohost",
                                 "https://user:pw@example.com/", "https://example.com:99999/"])
def test_malformed_urls_are_refused(url):
    with pytest.raises(RefusedTarget):
        outbound.parse(url, LOCAL)


def test_a_name_is_refused_when_any_of_its_addresses_is():
    def resolver(host, port):
        return ["93.184.216.34", "169.254.169.254"]

    with pytest.raises(RefusedTarget, match="link-local"):
        outbound.check_url("https://hooks.example.com/x", STRICT, resolver)


def test_a_literal_metadata_address_is_refused_without_dns():
    with pytest.raises(RefusedTarget, match="link-local") as raised:
        outbound.check_url("http://169.254.169.254/latest/meta-data/", LOCAL)
    assert raised.value.status == 422


def test_hosts_file_maps_names_before_dns_and_is_reread(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 hooks.test  # the receiver\n")
    rule = Policy(https_only=False, allow_private=True, hosts_file=str(hosts))
    assert outbound.check_url("http://hooks.test:8080/x", rule).addresses == ("127.0.0.1",)
    hosts.write_text("169.254.169.254 hooks.test\n")
    with pytest.raises(RefusedTarget, match="link-local"):
        outbound.check_url("http://hooks.test:8080/x", rule)


class _Handler(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Host"], body))
        payload = b"x" * 5000
        self.send_response(201)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Handler.received = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_send_connects_to_the_checked_address_with_the_name_as_host(tmp_path, receiver):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 receiver.test\n")
    rule = Policy(https_only=False, allow_private=True, hosts_file=str(hosts))
    response = outbound.send("POST", f"http://receiver.test:{receiver}/in?a=1", body=b"{}",
                             headers={"Content-Type": "application/json"}, rule=rule,
                             max_response_bytes=1000)
    assert response.status == 201
    assert (response.truncated, len(response.body), response.address) == (True, 1000, "127.0.0.1")
    assert _Handler.received == [("/in?a=1", f"receiver.test:{receiver}", b"{}")]


def test_send_refuses_a_name_rebound_to_the_metadata_address(tmp_path, receiver):
    hosts = tmp_path / "hosts"
    hosts.write_text("169.254.169.254 receiver.test\n")
    rule = Policy(https_only=False, allow_private=True, hosts_file=str(hosts))
    with pytest.raises(RefusedTarget):
        outbound.send("POST", f"http://receiver.test:{receiver}/in", body=b"{}", rule=rule)
    assert _Handler.received == []


def test_send_refuses_loopback_when_private_targets_are_not_allowed(receiver):
    with pytest.raises(RefusedTarget, match="loopback"):
        outbound.send("POST", f"http://127.0.0.1:{receiver}/in", body=b"{}",
                      rule=Policy(https_only=False, allow_private=False))
    assert _Handler.received == []


def test_unreachable_target_is_an_outbound_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OutboundError):
        outbound.send("GET", f"http://127.0.0.1:{port}/", rule=LOCAL, timeout=2)
