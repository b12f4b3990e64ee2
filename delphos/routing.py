"""Routes that carry their own API description.

Each HTTP operation is declared once, where its handler is: path, method, request model,
response model, parameters and the errors it may answer. `delphos.openapi` assembles the
document from this table, so a route cannot exist undocumented nor a document path
unrouted, and the schemas shown are the models the handlers serialise through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from delphos.errors import DelphosError
from delphos.openapi_parts import SSE_DESCRIPTION, error_name, ref
from delphos.records import ConsultationId

# Timestamps go out as Python's isoformat ("+00:00"), as they always have.
IsoDateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def iso(at: datetime) -> str:
    return at.isoformat()


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["path", "query", "header"]
    schema: dict[str, Any]
    description: str | None = None

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "in": self.where}
        if self.where == "path":
            doc["required"] = True
        if self.description:
            doc["description"] = self.description
        doc["schema"] = self.schema
        return doc


# The id rule's own schema (delphos.records), limited to one path segment.
CONSULTATION_ID = Param(
    "consultation_id",
    "path",
    {**TypeAdapter(ConsultationId).json_schema(), "pattern": "^[^/]+$"},
    "The consultation_id the notes were requested with. One path segment: a "
    "consultation whose id contains `/` cannot be read back here.",
)


@dataclass(frozen=True)
class Operation:
    """What the document says of one route and method."""

    id: str
    summary: str
    # The JSON body of a 200, or raw OpenAPI `content` for other media types.
    ok: type[BaseModel] | dict[str, Any] | None = None
    ok_description: str = "OK"
    body: type[BaseModel] | None = None
    body_description: str | None = None
    # The errors the operation may answer: each class gives its status and code.
    errors: tuple[type[DelphosError], ...] = ()
    params: tuple[Param, ...] = ()
    description: str | None = None
    secured: bool = True  # the x-api-key header
    # Server-Sent Events the 200 may stream instead, in stream order: (event, payload).
    events: tuple[tuple[str, type[BaseModel]], ...] = ()
    # Other answers with no JSON error body (Range requests' 206/400/416), as OpenAPI.
    other_responses: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        """The operation's OpenAPI object (its schemas and error answers are components)."""
        doc: dict[str, Any] = {"operationId": self.id, "summary": self.summary}
        if self.description:
            doc["description"] = self.description
        if self.secured:
            doc["security"] = [{"ApiKey": []}]
        if self.params:
            doc["parameters"] = [p.json() for p in self.params]
        if self.body is not None:
            doc["requestBody"] = {"required": True, "content": _json(self.body)}
            if self.body_description:
                doc["requestBody"]["description"] = self.body_description
        content: dict[str, Any] = {}
        if self.events:
            oneof = [ref(f"Sse{name.capitalize()}Event") for name, _ in self.events]
            content["text/event-stream"] = {
                "schema": {"description": SSE_DESCRIPTION, "oneOf": oneof}
            }
        if isinstance(self.ok, dict):
            content.update(self.ok)
        elif self.ok is not None:
            content.update(_json(self.ok))
        errors: dict[str, Any] = {}
        for error in self.errors:
            answer = ref(error_name(error), "responses")
            same = errors.setdefault(str(error.status_code), answer) == answer
            assert same, f"{self.id}: two documented answers for {error.status_code}"
        ok = {"description": self.ok_description, "content": content}
        doc["responses"] = {"200": ok, **self.other_responses, **errors}
        return doc


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": ref(model.__name__)}}


class ApiRoute(Route):
    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        method: str,
        operation: Operation,
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method
        self.operation = operation


def paths(routes: Sequence[ApiRoute]) -> dict[str, dict[str, Any]]:
    """The document's ``paths``: each route's operation under its path and method."""
    found: dict[str, dict[str, Any]] = {}
    for route in routes:
        found.setdefault(route.path, {})[route.method.lower()] = route.operation.json()
    return found


def model_response(model: BaseModel, headers: dict[str, str] | None = None) -> JSONResponse:
    """The body exactly as the document's schema for ``type(model)`` describes it."""
    return JSONResponse(model.model_dump(mode="json"), headers=headers)
