"""The one place that turns ``DELPHOS_ENGINE`` into an engine, failing at startup.

A missing key or URL is reported when the service starts (a ``ValueError`` naming the
environment variable), not as a failed note in front of a clinician.
"""

from __future__ import annotations

from delphos.engines.base import Engine
from delphos.engines.retry import RetryingEngine
from delphos.settings import Settings


def build_engine(settings: Settings) -> Engine:
    # Imports inside the branches: the local engine does not need the LLM SDKs loaded,
    # and an LLM engine does not need the local engine's resources.
    if settings.engine == "local":
        from delphos.engines.local import LocalEngine

        return LocalEngine()
    inner: Engine
    if settings.engine == "anthropic":
        from delphos.engines.anthropic_engine import AnthropicEngine

        inner = AnthropicEngine(settings)
    elif settings.engine == "openai":
        from delphos.engines.openai_engine import OpenAIEngine

        inner = OpenAIEngine(settings)
    else:  # pragma: no cover - Settings only admits the three names
        raise ValueError(f"unknown engine {settings.engine!r}: use local, anthropic or openai")
    return RetryingEngine(
        inner, attempts=settings.retry_attempts, base_delay=settings.retry_base_delay
    )
