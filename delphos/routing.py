"""Routes that carry their own API description.

Each HTTP operation is declared once, where its handler is: path, method, request model,
response model, parameters and the errors it may answer. `delphos.openapi` assembles the
document from this table, so a route cannot exist undocumented nor a document path
unrouted, and the schemas shown are the models the handlers serialise through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from delphos.errors import DelphosError
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


def model_response(model: BaseModel, headers: dict[str, str] | None = None) -> JSONResponse:
    """The body exactly as the document's schema for ``type(model)`` describes it."""
    return JSONResponse(model.model_dump(mode="json"), headers=headers)
