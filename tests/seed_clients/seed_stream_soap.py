# The Python client from the DELPHOS reference (seed 003), verbatim but for formatting and
# type hints required by our linters. Do not "fix" it: it is the contract's first user.
# ruff: noqa
# mypy: ignore-errors
import httpx
import json
from typing import AsyncGenerator


async def stream_soap(
    base_url: str,
    api_key: str,
    consultation_id: str,
    accumulated_text: str,
    previous_soap_hash: str | None = None,
) -> AsyncGenerator[tuple[str, dict], None]:
    """Stream SOAP notes via SSE.

    Yields (event_type, data) tuples as SOAP sections are generated progressively.
    """
    url = f"{base_url}/v1/consultation/progressive-soap/stream"
    payload = {
        "consultation_id": consultation_id,
        "accumulated_text": accumulated_text,
        "previous_soap_hash": previous_soap_hash,
        "stream": True,
    }
    headers = {
        "Content-Type": "application/json",
        "x-api-key": api_key,
        "Accept": "text/event-stream",
    }

    async with httpx.AsyncClient() as client:
        async with client.stream(
            "POST", url, json=payload, headers=headers, timeout=60.0
        ) as response:
            response.raise_for_status()
            buffer = ""

            async for chunk in response.aiter_text():
                buffer += chunk

                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    if not block.strip():
                        continue

                    event_type = None
                    data_str = None
                    for line in block.split("\n"):
                        if line.startswith("event: "):
                            event_type = line[7:].strip()
                        elif line.startswith("data: "):
                            data_str = line[6:].strip()

                    if event_type and data_str:
                        yield event_type, json.loads(data_str)
