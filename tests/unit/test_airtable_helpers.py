"""Pure helpers of the Airtable layer: formulas from filters, base ids from URLs, errors."""

from __future__ import annotations

import pytest
import requests

from common.airtable.client import base_of
from common.airtable.errors import TokenRejected, translate
from common.airtable.formulas import filter_formula
from common.core.errors import NotFound, RateLimited, UpstreamError, ValidationFailed


@pytest.mark.parametrize(("filters", "formula"), [
    ({"Name": "O'Brien"}, "{Name}='O\\'Brien'"),
    ({"Name": "{x}"}, "{Name}='{x}'"),
    ({"Age": 21, "Done": True}, "AND({Age}=21, {Done}=TRUE())"),
    ({"Notes": None}, "{Notes}=BLANK()"),
])
def test_filters_become_quoted_formulas(filters, formula):
    assert filter_formula(filters) == formula


@pytest.mark.parametrize("filters", [{}, {"Name": ["a"]}, {"Name": {"nested": 1}}])
def test_unsupported_filters_are_validation_errors(filters):
    with pytest.raises(ValidationFailed):
        filter_formula(filters)


@pytest.mark.parametrize(("filters", "formula"), [
    ([{"field": "Status", "op": "is", "value": "Lead"}], "{Status}='Lead'"),
    ([{"field": "Status", "op": "is_not", "value": "O'Brien"}], "{Status}!='O\\'Brien'"),
    ([{"field": "Score", "op": "gt", "value": 50}, {"field": "Score", "op": "lt", "value": 90}],
     "AND({Score}>50, {Score}<90)"),
    ([{"field": "Name", "op": "contains", "value": "') & TRUE() & ('"}],
     "FIND(LOWER('\\') & TRUE() & (\\''), LOWER(CONCATENATE({Name}, '')))>0"),
    ([{"field": "Notes", "op": "is_empty"}], "{Notes}=BLANK()"),
    ([{"field": "Notes", "op": "is_not_empty"}], "NOT({Notes}=BLANK())"),
    ([{"field": "a}b", "op": "is", "value": 1}], "{a\\}b}=1"),
])
def test_filter_conditions_become_quoted_formulas(filters, formula):
    assert filter_formula(filters) == formula


@pytest.mark.parametrize("filters", [
    [{"field": "Name", "op": "like", "value": "a"}],
    [{"field": "Name", "op": "gt"}],
    [{"op": "is", "value": "a"}],
    [{"field": "Name", "op": "is", "value": ["a"]}],
    ["Name"],
])
def test_malformed_filter_conditions_are_validation_errors(filters):
    with pytest.raises(ValidationFailed):
        filter_formula(filters)


@pytest.mark.parametrize(("url", "base"), [
    ("http://h/v0/appAAAAAAAAAAAAAA/People", "appAAAAAAAAAAAAAA"),
    ("http://h/v0/appAAAAAAAAAAAAAA/People/recX", "appAAAAAAAAAAAAAA"),
    ("http://h/v0/meta/bases/appBBBBBBBBBBBBBB/tables", "appBBBBBBBBBBBBBB"),
    ("http://h/v0/meta/bases", None),
    ("http://h/v0/meta/whoami", None),
    # Airtable's webhooks API counts against the base too.
    ("http://h/v0/bases/appCCCCCCCCCCCCCC/webhooks/achX/payloads", "appCCCCCCCCCCCCCC"),
    # Malformed ids never reach the limiter's table (a long one was a 500 on PostgreSQL).
    ("http://h/v0/app" + "A" * 40 + "/People", None),
    ("http://h/v0/meta/bases/appB/tables", None),
])
def test_requests_are_attributed_to_their_base(url, base):
    assert base_of(url) == base


def _http_error(status: int, body: dict | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response._content = (requests.compat.json.dumps(body) if body else "").encode()
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(("status", "body", "kind"), [
    (404, {"error": {"type": "MODEL_ID_NOT_FOUND", "message": "Record not found"}}, NotFound),
    (403, {"error": {"type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"}}, NotFound),
    (422, {"error": {"type": "UNKNOWN_FIELD_NAME", "message": "Unknown field name: \"X\""}},
     ValidationFailed),
    (429, {"error": {"type": "RATE_LIMIT_REACHED"}}, RateLimited),
    (401, {"error": {"type": "AUTHENTICATION_REQUIRED"}}, TokenRejected),
    (503, None, UpstreamError),
])
def test_airtable_errors_map_to_domain_errors(status, body, kind):
    assert isinstance(translate(_http_error(status, body)), kind)


def test_unreachable_airtable_is_an_upstream_error():
    assert isinstance(translate(requests.ConnectionError("refused")), UpstreamError)
