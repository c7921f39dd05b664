"""Schemathesis, signed in, over every documented route: no 5xx and answers as documented."""

from __future__ import annotations

import pytest

from tests.fuzz.runner import run


@pytest.mark.timeout(420)
def test_no_route_answers_a_server_error_or_off_contract(stack, tmp_path):
    completed = run(stack.url, max_examples=3, report_dir=tmp_path, timeout=360)
    assert completed.returncode == 0, completed.stdout[-15000:] + completed.stderr[-3000:]


def test_a_method_the_distribution_does_not_allow_is_refused_as_cloudfront_does(api):
    # Not http.server's 501: the front answers as CloudFront does for a method outside a
    # behaviour's AllowedMethods.
    response = api.request("QUERY", "/api/platform/info")
    assert response.status_code == 403


def test_a_body_that_is_not_json_is_a_validation_error(api, stack):
    from tests.e2e.authutil import bearer, register

    headers = {**bearer(register(api)["access_token"]), "Content-Type": "text/plain"}
    response = api.post("/api/workspaces", data="name=x", headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "Content-Type", "problem": "must be application/json"}]
