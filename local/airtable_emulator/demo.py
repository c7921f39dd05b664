"""The seeded "Demo CRM" base: Contacts and Deals with realistic sample rows."""

from __future__ import annotations

from typing import Any

from .records import create_records
from .store import Store

DEMO_BASE_NAME = "Demo CRM"

STAGES = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]

CONTACTS_TABLE: dict[str, Any] = {
    "name": "Contacts",
    "description": "People we talk to.",
    "fields": [
        {"name": "Name", "type": "singleLineText"},
        {"name": "Email", "type": "email"},
        {"name": "Company", "type": "singleLineText"},
        {"name": "Status", "type": "singleSelect", "options": {"choices": [
            {"name": "Lead", "color": "blueLight2"},
            {"name": "Customer", "color": "greenLight2"},
            {"name": "Churned", "color": "redLight2"},
        ]}},
        {"name": "Score", "type": "number", "options": {"precision": 0}},
    ],
}

DEALS_TABLE: dict[str, Any] = {
    "name": "Deals",
    "description": "Open and closed opportunities.",
    "fields": [
        {"name": "Name", "type": "singleLineText"},
        {"name": "Amount", "type": "currency", "options": {"precision": 2, "symbol": "$"}},
        {"name": "Stage", "type": "singleSelect",
         "options": {"choices": [{"name": stage} for stage in STAGES]}},
        {"name": "Closed", "type": "checkbox",
         "options": {"icon": "check", "color": "greenBright"}},
    ],
}

CONTACTS = [
    ("Ada Lovelace", "ada@analytical.io", "Analytical Engines", "Customer", 92),
    ("Grace Hopper", "grace@cobol.dev", "Compiler Co", "Customer", 88),
    ("Alan Turing", "alan@bletchley.uk", "Bletchley Labs", "Lead", 75),
    ("Katherine Johnson", "katherine@orbit.space", "Orbit Dynamics", "Customer", 95),
    ("Linus Torvalds", "linus@kernel.org", "Kernel Works", "Lead", 64),
    ("Margaret Hamilton", "margaret@apollo.space", "Apollo Software", "Customer", 90),
    ("Dennis Ritchie", "dennis@unix.dev", "Bell Systems", "Churned", 40),
    ("Barbara Liskov", "barbara@substitution.io", "Abstraction Inc", "Lead", 71),
    ("Tim Berners-Lee", "tim@web.org", "World Wide Web", "Customer", 83),
    ("Radia Perlman", "radia@spanning.net", "Spanning Trees", "Lead", 58),
    ("Ken Thompson", "ken@plan9.dev", "Plan 9 Ltd", "Churned", 35),
    ("Frances Allen", "frances@optimize.io", "Optimizing Compilers", "Customer", 86),
]

DEALS = [
    ("Analytical Engines renewal", 12500.0, "Closed Won", True),
    ("Orbit Dynamics expansion", 48000.5, "Negotiation", False),
    ("Kernel Works pilot", 3200.0, "Prospecting", False),
    ("Bell Systems win-back", 7800.0, "Closed Lost", True),
    ("Apollo Software platform", 99999.99, "Negotiation", False),
]


def seed_demo_base(store: Store) -> str:
    """Create the demo base unless a base with its name exists; returns the base id."""
    existing = next((b for b in store.bases.values() if b.name == DEMO_BASE_NAME), None)
    if existing is not None:
        return existing.id
    base = store.create_base(DEMO_BASE_NAME, [CONTACTS_TABLE, DEALS_TABLE])
    contacts, deals = base.tables
    rows = [dict(zip(["Name", "Email", "Company", "Status", "Score"], row, strict=True))
            for row in CONTACTS]
    deal_rows = [dict(zip(["Name", "Amount", "Stage", "Closed"], row, strict=True))
                 for row in DEALS]
    for table, table_rows in ((contacts, rows), (deals, deal_rows)):
        for start in range(0, len(table_rows), 10):
            chunk = table_rows[start:start + 10]
            create_records(table, {"records": [{"fields": fields} for fields in chunk]})
    return base.id
