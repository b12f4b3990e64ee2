"""The progressive-SOAP endpoints and reading their Server-Sent Events as the seed's
clients do."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

STREAM = "/v1/consultation/progressive-soap/stream"
JSON_URL = "/v1/consultation/progressive-soap"
Event = tuple[str, dict[str, Any]]


def parse_sse(raw: str) -> list[Event]:
    """Parse like the seed's JavaScript: split on \\n\\n, `^event:` and ONE `^data:` line."""
    events = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        evt = re.search(r"^event:\s*(.+)$", block, re.M)
        data_lines = re.findall(r"^data:\s*(.+)$", block, re.M)
        if evt is None and not data_lines:
            assert block.startswith(":"), f"unexpected block {block!r}"
            continue
        assert evt is not None
        assert len(data_lines) == 1, "every event carries exactly one data line"
        events.append((evt.group(1).strip(), json.loads(data_lines[0])))
    return events


def check_order(events: list[Event]) -> None:
    """One `status` first, `partial`s, and the stream's last event a `soap` or an `error`."""
    names = [n for n, _ in events]
    assert names[0] == "status"
    assert names[-1] in ("soap", "error")
    assert all(n == "partial" for n in names[1:-1]), names


def canonical_hash(data: dict[str, Any]) -> str:
    """The contract's soap_hash: SHA-256 of the four sections as compact UTF-8 JSON."""
    note = {k: data[k] for k in ("subjective", "objective", "assessment", "plan")}
    raw = json.dumps(note, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()
