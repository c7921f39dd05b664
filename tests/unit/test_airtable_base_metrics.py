"""Airtable requests and 429s are counted per base, as EMF lines the dashboard and alarms read."""

from __future__ import annotations

import json

from common.core import usage


def _emf(capsys) -> list[dict]:
    return [line for line in (json.loads(text) for text in capsys.readouterr().out.splitlines()
                              if text.startswith('{"_aws"'))]


def test_an_invocations_requests_are_written_per_base_when_it_ends(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PyAirtable")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "airtable")

    @usage.per_base_metrics
    def handler() -> str:
        for base in ("appA", "appA", "appB"):
            usage.count_airtable_request(base)
        return "done"

    assert handler() == "done"
    per_base = {line["base"]: line[usage.AIRTABLE_REQUESTS] for line in _emf(capsys)}
    assert per_base == {"appA": [2.0], "appB": [1.0]}
    handler()
    assert {line["base"]: line[usage.AIRTABLE_REQUESTS] for line in _emf(capsys)} == \
        {"appA": [2.0], "appB": [1.0]}  # the next invocation counts afresh


def test_a_429_is_written_at_once_with_its_base(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PyAirtable")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "airtable")
    usage.count_airtable_429("appLocked")
    [line] = _emf(capsys)
    assert line["base"] == "appLocked" and line[usage.AIRTABLE_429S] == [1.0]
    assert line["service"] == "airtable"
    assert sorted(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["base", "service"]
