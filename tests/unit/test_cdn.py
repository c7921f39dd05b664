"""The local CloudFront front: path patterns, behaviour choice, the headers policy, error pages
and viewer-request functions, as the template's distribution defines them."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from local.runtime.cdn import Distribution, apply_headers_policy, path_pattern

SPA = """function handler(event) {
  var request = event.request;
  if (!/\\.[A-Za-z0-9]+$/.test(request.uri)) { request.uri = '/index.html'; }
  return request;
}"""


class _Api:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def handle(self, method: str, raw_path: str, header_items: Any, body: bytes,
               source_ip: str) -> tuple[int, dict[str, str], bytes, str]:
        self.seen.append((method, raw_path))
        return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}', " (api)"


class _Bucket:
    """An S3 client holding a few objects (get_object only)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        from datetime import UTC, datetime

        from botocore.exceptions import ClientError

        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")

        class Body:
            def __init__(self, data: bytes) -> None:
                self.data = data

            def read(self) -> bytes:
                return self.data

        return {"Body": Body(self.objects[Key]), "ContentType": "text/html",
                "ETag": '"x"', "LastModified": datetime(2026, 1, 1, tzinfo=UTC)}


POLICY = {"SecurityHeadersConfig": {
    "ContentSecurityPolicy": {"ContentSecurityPolicy": "default-src 'none'", "Override": True},
    "FrameOptions": {"FrameOption": "DENY", "Override": False},
    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 600, "IncludeSubdomains": True,
                                "Override": True}},
    "CustomHeadersConfig": {"Items": [{"Header": "X-Extra", "Value": "1", "Override": True}]}}


def _distribution(functions: dict[str, str] | None = None,
                  errors: list[dict[str, Any]] | None = None) -> tuple[Distribution, _Api]:
    api = _Api()
    default: dict[str, Any] = {"TargetOriginId": "web", "AllowedMethods": ["GET", "HEAD"],
                               "ResponseHeadersPolicyId": "policy"}
    if functions:
        default["FunctionAssociations"] = [{"EventType": "viewer-request", "FunctionARN": "fn"}]
    config = {"DefaultRootObject": "index.html",
              "Origins": [{"Id": "web", "DomainName": "site.s3.us-east-1.amazonaws.com"},
                          {"Id": "api",
                           "DomainName": "localapi.execute-api.us-east-1.amazonaws.com"}],
              "DefaultCacheBehavior": default,
              "CacheBehaviors": [{"PathPattern": "/api/*", "TargetOriginId": "api",
                                  "AllowedMethods": ["GET", "HEAD", "POST"]}],
              "CustomErrorResponses": errors or []}
    bucket = _Bucket({"index.html": b"<html>app</html>", "assets/app.js": b"js"})
    return Distribution(config, {"policy": POLICY}, functions or {}, "localapi", api, bucket,
                        lambda line: None), api


def test_path_patterns_match_as_cloudfront_does():
    assert path_pattern("/api/*").fullmatch("/api/auth/login")
    assert path_pattern("api/*").fullmatch("/api/")
    assert not path_pattern("/api/*").fullmatch("/apis")
    assert path_pattern("/img/?.png").fullmatch("/img/a.png")
    assert not path_pattern("/img/?.png").fullmatch("/img/ab.png")


def test_api_paths_go_to_the_http_api_with_their_query_and_without_the_ui_policy():
    distribution, api = _distribution()
    status, headers, _, _ = distribution.handle("POST", "/api/x?a=1", [], b"", "127.0.0.1")
    assert api.seen == [("POST", "/api/x?a=1")]
    assert status == 404 and "Content-Security-Policy" not in headers


def test_the_root_is_the_default_root_object_and_a_missing_key_is_403():
    distribution, _ = _distribution()
    assert distribution.handle("GET", "/", [], b"", "ip")[2] == b"<html>app</html>"
    assert distribution.handle("GET", "/bases/app1", [], b"", "ip")[0] == 403


def test_custom_error_responses_replace_the_origin_error():
    distribution, _ = _distribution(errors=[{"ErrorCode": 403, "ResponseCode": 200,
                                             "ResponsePagePath": "/index.html"}])
    status, _, body, _ = distribution.handle("GET", "/bases/app1", [], b"", "ip")
    assert (status, body) == (200, b"<html>app</html>")


def test_methods_outside_the_behaviour_are_refused():
    distribution, _ = _distribution()
    assert distribution.handle("DELETE", "/index.html", [], b"", "ip")[0] == 403


def test_headers_policy_overrides_only_where_it_says_so():
    out = apply_headers_policy(POLICY, {"X-Frame-Options": "SAMEORIGIN",
                                        "content-security-policy": "old"})
    assert out["X-Frame-Options"] == "SAMEORIGIN"
    assert out["Content-Security-Policy"] == "default-src 'none'"
    assert "content-security-policy" not in out
    assert out["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    assert out["X-Extra"] == "1"


@pytest.mark.skipif(shutil.which("node") is None, reason="the function runs on Node.js")
def test_a_viewer_request_function_rewrites_deep_links_to_the_app():
    distribution, _ = _distribution(functions={"fn": SPA})
    try:
        status, headers, body, _ = distribution.handle("GET", "/bases/app1/tables/tbl2?x=1",
                                                       [], b"", "ip")
        assert (status, body) == (200, b"<html>app</html>")
        assert headers["Content-Security-Policy"] == "default-src 'none'"
        assert distribution.handle("GET", "/assets/app.js", [], b"", "ip")[2] == b"js"
        assert distribution.handle("GET", "/assets/gone.js", [], b"", "ip")[0] == 403
    finally:
        distribution.close()
