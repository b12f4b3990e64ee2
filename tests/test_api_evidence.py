"""Evidence through a real server: the final `soap` event of an LLM note flags a wrong
dose, an absent drug and a flipped side at their statements; a faithful note and the
local engine's notes need no review; POST /v1/notes/verify checks any note, refuses bad
input with the field at fault, and its offsets slice right in Python and in JavaScript."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from typing import Any

import httpx
import pytest
from sqlalchemy import null, update

from delphos.db.database import Database
from delphos.db.models import NoteVersion
from tests.support.fakes.llm_server import Scenario
from tests.support.fixtures.server import Backend, LiveServer
from tests.support.sse import JSON_URL, STREAM, parse_sse
from tests.support.upstream import (  # noqa: F401  (no_patient_text_in_logs: autouse here)
    Serve,
    Upstream,
    no_patient_text_in_logs,
)

VERIFY = "/v1/notes/verify"
DIALOGUE = (
    "[doctor] what brings you in today ?\n"
    "[patient] my right knee has been swollen for three days .\n"
    "[doctor] any chest pain ?\n"
    "[patient] no .\n"
    "[doctor] what do you take ?\n"
    "[patient] lisinopril twenty milligrams once a day .\n"
    "[doctor] okay , keep the lisinopril and rest the right knee ."
)
FAITHFUL = {
    "subjective": "Right knee swollen for 3 days. Denies chest pain.",
    "objective": "Swelling of the right knee.",
    "assessment": "Right knee swelling.",
    "plan": "Continue lisinopril 20 mg daily. Rest the right knee.",
}
WRONG = {
    **FAITHFUL,
    "objective": "Swelling of the left knee.",
    "plan": "Continue lisinopril 40 mg daily. Start metoprolol.",
}


def _issues(evidence: dict[str, Any]) -> dict[str, list[str]]:
    return {st["text"]: [i["kind"] for i in st["issues"]] for st in evidence["statements"]}


async def _soap_event(srv: LiveServer, cid: str) -> dict[str, Any]:
    body = {"consultation_id": cid, "accumulated_text": DIALOGUE}
    async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers, timeout=30) as client:
        response = await client.post(STREAM, json=body)
    events = parse_sse(response.text)
    [soap] = [data for name, data in events if name == "soap"]
    assert all("evidence" not in data for name, data in events if name == "partial")
    return soap


async def test_an_llm_note_with_a_wrong_dose_an_absent_drug_and_a_flipped_side_is_flagged(
    upstream: Upstream, serve: Serve
) -> None:
    upstream.fake.push(Scenario(text=json.dumps(WRONG)))
    async with serve(upstream) as srv:
        soap = await _soap_event(srv, "ev-wrong")
        found = _issues(soap["evidence"])
        assert found["Swelling of the left knee."] == ["laterality"]
        assert found["Continue lisinopril 40 mg daily."] == ["dose"]
        assert found["Start metoprolol."] == ["drug"]
        assert found["Denies chest pain."] == []
        assert soap["evidence"]["summary"]["needs_review"] is True
        assert soap["evidence"]["summary"]["issues"]["dose"] == 1
        # The stored version carries the same evidence.
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers) as client:
            stored = await client.get(f"/v1/consultations/ev-wrong/soap-notes/{soap['soap_hash']}")
        assert stored.status_code == 200
        assert stored.json()["evidence"] == soap["evidence"]


async def test_a_faithful_llm_note_needs_no_review(upstream: Upstream, serve: Serve) -> None:
    upstream.fake.push(Scenario(text=json.dumps(FAITHFUL)))
    async with serve(upstream) as srv:
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers, timeout=30) as c:
            answer = await c.post(
                JSON_URL, json={"consultation_id": "ev-ok", "accumulated_text": DIALOGUE}
            )
    evidence = answer.json()["evidence"]
    assert all(st["issues"] == [] for st in evidence["statements"])
    assert evidence["summary"]["needs_review"] is False


async def test_the_local_engines_notes_are_all_supported(make_server: Any) -> None:
    async with make_server(engine="local") as srv:
        soap = await _soap_event(srv, "ev-local")
    statements = soap["evidence"]["statements"]
    assert statements
    assert {st["support"] for st in statements} == {"supported"}
    assert soap["evidence"]["summary"]["needs_review"] is False


PT_DIALOGUE = "[paciente] estou com dor no ombro 😀 esquerdo há duas semanas , não tenho febre ."
PT_NOTE = {"subjective": "Olá, São Paulo 😀. Dor no ombro esquerdo há 2 semanas. Nega febre."}


async def test_verify_checks_a_portuguese_note_and_its_offsets_slice_in_python_and_node(
    make_server: Any,
) -> None:
    async with make_server(engine="local") as srv:
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers) as client:
            good = await client.post(
                VERIFY, json={"accumulated_text": PT_DIALOGUE, "note": PT_NOTE}
            )
            bad = await client.post(
                VERIFY,
                json={
                    "accumulated_text": PT_DIALOGUE,
                    "note": {"subjective": "Dor no ombro direito há 5 semanas. Febre alta."},
                },
            )
    assert good.status_code == 200
    evidence = good.json()
    statements = evidence["statements"]
    assert [s["issues"] for s in statements if "ombro" in s["text"] or "febre" in s["text"]] == [
        [],
        [],
    ]
    for st in statements:
        assert PT_NOTE[st["section"]][st["start"] : st["end"]] == st["text"]
    found = _issues(bad.json())
    assert set(found["Dor no ombro direito há 5 semanas."]) == {"laterality", "number"}
    assert found["Febre alta."] == ["negation"]

    node = shutil.which("node")
    assert node, "node is required to check the offsets as a JavaScript client slices them"
    script = (
        "const d = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const cut = (t, s, e) => Array.from(t).slice(s, e).join('');"
        "const out = d.ev.statements.map(s => [cut(d.note[s.section], s.start, s.end),"
        " s.evidence.map(v => cut(d.text, v.start, v.end))]);"
        "process.stdout.write(JSON.stringify(out));"
    )
    payload = json.dumps({"ev": evidence, "note": PT_NOTE, "text": PT_DIALOGUE})
    ran = await asyncio.to_thread(
        subprocess.run,
        [node, "-e", script],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    sliced = json.loads(ran.stdout)
    assert [text for text, _ in sliced] == [st["text"] for st in statements]
    assert [spans for _, spans in sliced] == [
        [PT_DIALOGUE[v["start"] : v["end"]] for v in st["evidence"]] for st in statements
    ]
    assert any("😀" in text for text, _ in sliced)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": {"subjective": "x"}}, "accumulated_text"),
        ({"accumulated_text": "hi"}, "note"),
        ({"accumulated_text": "hi", "note": {"subjective": 3}}, "note.subjective"),
        ({"accumulated_text": "hi", "note": {"subjective": "a\u0000b"}}, "note.subjective"),
        ({"accumulated_text": "x" * 100_001, "note": {}}, "accumulated_text"),
        ({"accumulated_text": "hi", "note": {"summary": "x"}}, "note.summary"),
        # More statements than a posted note may have (delphos.evidence.runner).
        ({"accumulated_text": "hi", "note": {"plan": "Rest. " * 501}}, "note"),
    ],
)
async def test_verify_refuses_bad_input_with_the_field_at_fault(
    make_server: Any, body: dict[str, Any], field: str
) -> None:
    async with make_server(engine="local") as srv:
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers) as client:
            answer = await client.post(VERIFY, json=body)
            unauthorised = await client.post(
                VERIFY, json={"accumulated_text": "", "note": {}}, headers={"x-api-key": "no"}
            )
    assert answer.status_code == 422
    assert field in [f["field"] for f in answer.json()["fields"]]
    assert unauthorised.status_code == 401


async def test_a_note_of_thousands_of_statements_is_sent_unchecked_not_held_back(
    upstream: Upstream, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    # A transcript can ask an LLM for thousands of lines; checking them all would hold the
    # process every other note's `soap` waits for. The note still arrives, unchecked.
    huge = {**FAITHFUL, "plan": " ".join(f"Rest the right knee {i}." for i in range(600))}
    upstream.fake.push(Scenario(text=json.dumps(huge)))
    async with serve(upstream) as srv:
        soap = await _soap_event(srv, "ev-huge")
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers) as client:
            stored = await client.get(f"/v1/consultations/ev-huge/soap-notes/{soap['soap_hash']}")
    assert soap["plan"] == huge["plan"], "the whole note, as written"
    assert soap["evidence"] is None
    assert stored.json()["evidence"] is None
    assert "more than 500" in caplog.text


async def test_a_version_stored_before_evidence_is_checked_once_and_keeps_its_evidence(
    make_server: Any, backend: Backend
) -> None:
    async with make_server(engine="local", **backend.overrides) as srv:
        first = await _soap_event(srv, "ev-old")
    # As if stored before evidence existed (the column is null for those versions).
    db = Database(backend.database_url)
    async with db.session() as session:
        await session.execute(
            update(NoteVersion)
            .where(NoteVersion.soap_hash == first["soap_hash"])
            .values(evidence=null())
        )
    await db.engine.dispose()
    await backend.flush_cache()
    url = f"/v1/consultations/ev-old/soap-notes/{first['soap_hash']}"
    async with (
        make_server(engine="local", **backend.overrides) as srv,
        httpx.AsyncClient(base_url=srv.url, headers=srv.headers, timeout=30) as client,
    ):
        before = (await client.get(url)).json()
        body = {
            "consultation_id": "ev-old",
            "accumulated_text": DIALOGUE,
            "previous_soap_hash": first["soap_hash"],
        }
        events = parse_sse((await client.post(STREAM, json=body)).text)
        [soap] = [data for name, data in events if name == "soap"]
        after = (await client.get(url)).json()

    assert before["evidence"] is None
    assert soap["cached"] is True
    assert soap["evidence"] == first["evidence"]
    # Kept with the version: the history serves it, and the next request need not check.
    assert after["evidence"] == first["evidence"]
