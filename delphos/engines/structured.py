"""Asking LLM servers for the SOAP object itself (constrained decoding), not just prose.

A small model asked in words alone often fails to write valid JSON; a server that
constrains decoding to a JSON schema cannot. The schema lists the four keys in note order,
all required, nothing else: servers that honour it (OpenAI structured outputs, vLLM,
llama.cpp's grammars, Ollama, Anthropic structured outputs) write the keys in the order
they are declared, which is what lets the note stream section by section.

Servers spell the request differently, so the OpenAI-compatible engine walks a ladder of
spellings, most widely understood first, and steps down when a server refuses one — an
error whose body names the parameter (OpenAI and LM Studio answer 400, llama-cpp-python
0.3.x answers 500 with its validation error); an error that does not name it (a prompt
over the context window, an outage) is not a refusal of structured output:

1. ``response_format: {"type": "json_schema", "json_schema": {...}}`` — OpenAI, vLLM,
   Ollama's ``/v1``, llama.cpp's ``llama-server``, LM Studio;
2. ``response_format: {"type": "json_object", "schema": {...}}`` — llama-cpp-python's
   server (``python -m llama_cpp.server``), whose request model has no ``json_schema``;
3. nothing: the prompt alone (``auto`` only).

Which spelling worked is remembered for the life of the process, so only the first note
pays for a rejection.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from delphos.settings import StructuredOutput

Spelling = Literal["json_schema", "json_object", "none"]

SCHEMA_NAME = "soap_note"

SOAP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subjective": {"type": "string"},
        "objective": {"type": "string"},
        "assessment": {"type": "string"},
        "plan": {"type": "string"},
    },
    "required": ["subjective", "objective", "assessment", "plan"],
    "additionalProperties": False,
}


# Words of an error body that say the refusal is about structured output.
_REFUSAL_MARKERS = ("response_format", "json_schema", "output_config", "output_format")


def refuses_structured_output(error_body: object) -> bool:
    """Whether a provider's error body (parsed JSON, or text) names structured output.

    The body is only inspected, never logged or copied: it may quote the prompt."""
    text = error_body if isinstance(error_body, str) else json.dumps(error_body, default=str)
    lowered = text.lower()
    return any(marker in lowered for marker in _REFUSAL_MARKERS) or "structured output" in lowered


def ladder(mode: StructuredOutput) -> tuple[Spelling, ...]:
    """The spellings to try, in order, for a setting."""
    if mode == "off":
        return ("none",)
    if mode == "on":
        return ("json_schema", "json_object")
    return ("json_schema", "json_object", "none")


def response_format(spelling: Spelling) -> dict[str, Any] | None:
    """The ``response_format`` request field for a spelling (None: send none)."""
    if spelling == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": SOAP_SCHEMA},
        }
    if spelling == "json_object":
        return {"type": "json_object", "schema": SOAP_SCHEMA}
    return None
