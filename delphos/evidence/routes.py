"""POST /v1/notes/verify: check any note (a person's, another product's) against its
transcript. Same auth, body limits and validation as the SOAP endpoints."""

from __future__ import annotations

from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from delphos.errors import (
    BadRequest,
    InternalError,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from delphos.evidence.models import Evidence
from delphos.evidence.runner import EvidenceRunner
from delphos.evidence.verify import TooManyStatements
from delphos.http import read_model
from delphos.records import MAX_TEXT_CHARS, NO_NUL_SCHEMA, NoNul
from delphos.routing import ApiRoute, Operation, model_response
from delphos.scope import Services

Text = Annotated[str, NoNul]


class _Services(Services, Protocol):
    # Not the runner of the notes Delphos writes (runner.py says why).
    posted_evidence: EvidenceRunner


class NoteSections(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subjective: Text = Field(default="", max_length=MAX_TEXT_CHARS, json_schema_extra=NO_NUL_SCHEMA)
    objective: Text = Field(default="", max_length=MAX_TEXT_CHARS, json_schema_extra=NO_NUL_SCHEMA)
    assessment: Text = Field(default="", max_length=MAX_TEXT_CHARS, json_schema_extra=NO_NUL_SCHEMA)
    plan: Text = Field(default="", max_length=MAX_TEXT_CHARS, json_schema_extra=NO_NUL_SCHEMA)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    accumulated_text: Text = Field(
        max_length=MAX_TEXT_CHARS,
        description="The consultation text the note should come from",
        json_schema_extra=NO_NUL_SCHEMA,
    )
    note: NoteSections = Field(description="The note's four sections (missing ones are empty)")


async def verify_note(request: Request) -> Response:
    state: _Services = request.app.state.delphos
    await state.auth.authenticate(request.headers.get("x-api-key"))
    body = await read_model(request, VerifyRequest, state.settings.max_body_bytes)
    try:
        evidence = await state.posted_evidence.verify(body.accumulated_text, body.note.model_dump())
    except TooManyStatements as exc:
        message = f"{exc.count} statements; at most {exc.limit} are checked per note"
        raise ValidationFailed(
            f"Invalid request: the note has {message}",
            fields=[{"field": "note", "message": message, "type": "too_many_statements"}],
        ) from None
    return model_response(evidence)


routes = [
    ApiRoute(
        "/v1/notes/verify",
        verify_note,
        "POST",
        Operation(
            "verifyNote",
            "Check a note against its transcript (evidence and review flags)",
            description=(
                "Splits each section into statements and traces each to `accumulated_text`. "
                "Offsets are Unicode code points (Python str indices): `start`/`end` of a "
                "statement index its section's text, `evidence` spans index "
                "`accumulated_text`. In JavaScript slice with "
                "`Array.from(text).slice(start, end).join('')`."
            ),
            body=VerifyRequest,
            ok=Evidence,
            ok_description="The statements and the summary",
            errors=(
                BadRequest,
                Unauthorized,
                PayloadTooLarge,
                ValidationFailed,
                InternalError,
                ServiceUnavailable,
            ),
        ),
    )
]
