"""GET /openapi.json, assembled from the route table: each `ApiRoute` carries its operation
(delphos.routing): its path entry, the models its handler serialises through, the error
classes it raises. This module adds what the paths share: the schemas and error answers.
tests/test_openapi.py fuzzes the running server against the document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from delphos import __version__
from delphos.errors import DelphosError, ValidationFailed
from delphos.http import Error, ValidationErrorBody
from delphos.openapi_parts import (
    ERROR_DESCRIPTIONS,
    INFO_DESCRIPTION,
    METHOD_NOT_ALLOWED,
    error_name,
    ref,
    sse_event,
)
from delphos.routing import ApiRoute, Operation, paths


def _error_responses(routes: Sequence[ApiRoute]) -> dict[str, Any]:
    grouped: dict[str, list[type[DelphosError]]] = {}
    for route in routes:
        for error in route.operation.errors:
            members = grouped.setdefault(error_name(error), [])
            if error not in members:
                members.append(error)
    responses: dict[str, Any] = {}
    for name, errors in grouped.items():
        assert len({e.status_code for e in errors}) == 1, "one response, one status"
        body = ValidationErrorBody if errors == [ValidationFailed] else Error
        schema = {
            **ref(body.__name__),
            "properties": {"code": {"enum": sorted(e.code for e in errors)}},
        }
        responses[name] = {
            "description": ERROR_DESCRIPTIONS[name],
            "content": {"application/json": {"schema": schema}},
        }
    responses["MethodNotAllowed"] = METHOD_NOT_ALLOWED
    return responses


def _schemas(routes: Sequence[ApiRoute]) -> dict[str, Any]:
    requests = {r.operation.body for r in routes if r.operation.body is not None}
    responses: set[type[BaseModel]] = {Error, ValidationErrorBody}
    for route in routes:
        op = route.operation
        responses |= {model for _, model in op.events}
        if op.ok is not None and not isinstance(op.ok, dict):
            responses.add(op.ok)
    models = sorted(requests | responses, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template=ref("{model}")["$ref"]
    )
    # Request bodies (and what they nest) keep their optional fields; the server always
    # sends every field of a response, so the document requires them all.
    _, request_defs = models_json_schema([(m, "validation") for m in requests])
    optional = set(request_defs.get("$defs", {}))
    schemas: dict[str, Any] = defs["$defs"]
    for name, schema in schemas.items():
        if name not in optional and "properties" in schema:
            schema["required"] = list(schema["properties"])
    for route in routes:
        for name, payload in route.operation.events:
            schemas[f"Sse{name.capitalize()}Event"] = sse_event(name, payload.__name__)
    return schemas


def document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    api = [r for r in routes if isinstance(r, ApiRoute)]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Delphos", "version": __version__, "description": INFO_DESCRIPTION},
        "components": {
            "schemas": _schemas(api),
            "responses": _error_responses(api),
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
        "paths": paths(api),
    }


async def openapi(request: Request) -> Response:
    # Built once per app from its own route table.
    cached: dict[str, Any] | None = getattr(request.app.state, "openapi", None)
    if cached is None:
        cached = request.app.state.openapi = document(request.app.routes)
    return JSONResponse(cached)


routes = [
    ApiRoute(
        "/openapi.json",
        openapi,
        "GET",
        Operation(
            "openapi",
            "This document",
            ok={"application/json": {"schema": {"type": "object"}}},
            ok_description="OpenAPI 3.1",
            secured=False,
        ),
    )
]
