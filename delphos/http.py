"""HTTP edge helpers: bounded JSON bodies, validation errors with the field at fault."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from delphos.errors import BadRequest, DelphosError, PayloadTooLarge, ValidationFailed

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, limit: int) -> Any:
    """Parse the body as JSON, refusing (413) a body over `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
        except ValueError:
            raise BadRequest("Invalid Content-Length header") from None
    size = 0
    chunks: list[bytes] = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequest("The request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The request body is not valid JSON") from None


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = ".".join(str(p) for p in err["loc"]) or "body"
            fields.append({"field": loc, "message": err["msg"], "type": err["type"]})
        names = ", ".join(f["field"] for f in fields)
        raise ValidationFailed(f"Invalid request: check {names}", fields=fields) from None


def error_response(exc: DelphosError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status_code)
