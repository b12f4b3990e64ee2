"""The engine for blank text: an empty note, no model involved."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

from delphos.engines.base import EngineRejected
from delphos.records import SoapNote


class BlankEngine:
    name = "none"
    model = "none"

    async def stream(self, transcript: str) -> AsyncGenerator[str, None]:
        yield json.dumps(SoapNote().sections())

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        raise EngineRejected("the blank engine answers nothing")

    async def aclose(self) -> None:
        return None
