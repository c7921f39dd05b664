"""An admin's health report counts the database's connections against the server's limit,
the figure the connections alarm watches on RDS."""

from __future__ import annotations

from common.core import db, health


def test_connections_are_counted_against_what_the_server_admits(database_url, monkeypatch):
    engine = db._engine(database_url)
    monkeypatch.setattr(db, "engine", lambda: engine)
    try:
        with engine.connect():  # one held here at least, besides the report's own
            report = health.database_connections()
    finally:
        engine.dispose()
    if not database_url.startswith("postgresql"):
        assert report is None  # SQLite has no connection limit to report
        return
    assert 2 <= report["held"] < report["limit"]
    assert report["share"] == round(report["held"] / report["limit"], 3)


def test_a_database_that_cannot_answer_leaves_the_figure_out(monkeypatch):
    def unreachable():
        raise ConnectionRefusedError("database down")

    monkeypatch.setattr(db, "engine", unreachable)
    assert health.database_connections() is None
