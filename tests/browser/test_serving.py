"""The UI is served as the template's CloudFront distribution serves it: the app at every
route, its assets from the bucket, the API untouched under /api/*, the headers policy applied."""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", ["/", "/login", "/bases/appDEMO/tables/tblCONTACTS?view=x"])
def test_every_route_of_the_app_answers_200_with_the_app(stack, path):
    response = requests.get(stack.url + path, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert '<div id="root"></div>' in response.text
    assert response.headers["Cache-Control"] == "no-cache"


def test_the_headers_policy_sets_a_strict_content_security_policy(stack):
    headers = requests.get(stack.url + "/login", timeout=30).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_assets_come_from_the_bucket_compressed_and_cached_for_a_year(stack):
    page = requests.get(stack.url + "/", timeout=30).text
    script = re.search(r'src="(/assets/[^"]+\.js)"', page).group(1)
    response = requests.get(stack.url + script, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(("text/javascript",
                                                        "application/javascript"))
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]


def test_the_page_loads_nothing_from_another_origin(stack):
    page = requests.get(stack.url + "/", timeout=30).text
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_a_missing_asset_is_refused_by_the_bucket_not_answered_with_the_app(stack):
    response = requests.get(stack.url + "/assets/missing-0000.js", timeout=30)
    assert response.status_code == 403
    assert "<div id=\"root\">" not in response.text


def test_api_answers_pass_through_unchanged(stack):
    health = requests.get(stack.url + "/api/auth/health", timeout=60)
    assert health.status_code == 200 and health.headers["Content-Type"] == "application/json"
    # The /api/* behaviour adds only its own strict headers policy (ApiHeadersPolicy), never the
    # UI's: an API answer cannot load anything, nor be framed.
    assert "frame-ancestors 'none'" in health.headers["Content-Security-Policy"]
    assert "connect-src 'self';" in health.headers["Content-Security-Policy"]
    assert health.headers["X-Frame-Options"] == "DENY"
    missing = requests.get(stack.url + "/api/auth/no-such-route", timeout=60)
    # An API 401/403/404 stays the API's (which is why the SPA fallback is a function on the
    # UI's behaviour, not a distribution-wide custom error response).
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}


def test_the_ui_behaviour_takes_only_reads(stack):
    assert requests.post(stack.url + "/", data=b"x", timeout=30).status_code == 403
