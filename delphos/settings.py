"""Runtime configuration, read once from the environment (prefix ``DELPHOS_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EngineName = Literal["local", "anthropic", "openai"]
# Postgres connections per worker (SQLAlchemy's own default: 5 kept open, 10 more opened
# under a burst) and the seconds a request waits for a free one (twice the connect
# timeout); delphos.db.database applies them, also where no Settings are read.
DB_POOL_SIZE = 15
DB_POOL_TIMEOUT = 6.0
# DELPHOS_STRUCTURED_OUTPUT: ``auto`` asks and falls back to the prompt alone when the
# server refuses; ``on`` asks and fails the note when it refuses; ``off`` never asks.
StructuredOutput = Literal["auto", "on", "off"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DELPHOS_", extra="ignore")

    # --- serving -------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # "json": one JSON object per line (with the request id), for log collectors.
    log_format: Literal["text", "json"] = "text"
    # When set, GET /metrics requires `Authorization: Bearer <token>`; otherwise it is open
    # to whoever reaches the port (bind to 127.0.0.1 or filter /metrics at the proxy).
    metrics_token: str | None = None
    # Directory for the embedded database, the development key and session audio.
    data_dir: Path = Path(".delphos")

    # --- authentication ------------------------------------------------------------------
    # Comma-separated keys accepted for the bootstrap tenant (development / small installs).
    # Keys made with ``delphos keys create`` live hashed in the database.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    bootstrap_tenant: str = "default"
    # How long a database key lookup is trusted in process; a revoked key stops working
    # within this many seconds.
    key_cache_seconds: float = Field(default=30.0, ge=0)

    # --- engines -------------------------------------------------------------------------
    # The local engine is the default: nothing leaves the machine unless an LLM engine is
    # chosen explicitly.
    engine: EngineName = "local"
    anthropic_model: str = "claude-sonnet-4-6"
    anthropic_base_url: str | None = None
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str = "gpt-4o-mini"
    max_tokens: int = Field(default=4096, ge=256, le=64000)
    # Ask the LLM server to constrain its output to the SOAP object's JSON schema: ``auto``
    # asks and falls back to the prompt alone if the server refuses (remembered for the
    # process), ``on`` fails the note instead, ``off`` never asks. See docs/local-llms.md.
    structured_output: StructuredOutput = "auto"
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)
    # Retries on 429/5xx/overloaded before the first token.
    retry_attempts: int = Field(default=3, ge=0, le=10)
    retry_base_delay: float = Field(default=0.5, ge=0.0)
    # Whole-generation deadline (seconds) -> PROCESSING_TIMEOUT.
    generation_timeout: float = Field(default=90.0, gt=0)
    # After a mid-stream LLM failure, let the local engine complete the note (is_degraded).
    fallback_to_local: bool = False

    # --- streaming -----------------------------------------------------------------------
    # Maximum rate of `partial` events while a section streams (section completions and
    # the first text of the note are always sent at once).
    partials_per_second: float = Field(default=4.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Comment lines keep idle proxies from closing a slow stream; clients ignore them.
    sse_ping_seconds: float = Field(default=15.0, gt=0)

    # --- cache and persistence -----------------------------------------------------------
    database_url: str = ""
    # Postgres connections one worker may hold at once, and how long a request waits for
    # one to come free before it is answered 503 with Retry-After (a burst of EHR screens
    # loading history, say). Size the database's max_connections for every worker's pool.
    db_pool_size: int = Field(default=DB_POOL_SIZE, ge=1, le=1000)
    db_pool_timeout: float = Field(default=DB_POOL_TIMEOUT, gt=0, le=300)
    redis_url: str | None = None
    redis_prefix: str = "delphos"
    cache_ttl_seconds: int = Field(default=86_400, ge=1)
    cache_max_entries: int = Field(default=10_000, ge=1)
    # The in-process cache's bound in bytes (its entries zlib-packed, ~8 KB a note): the
    # entry count alone let a worker's cache grow with the size of the visits it served.
    cache_max_bytes: int = Field(default=128 << 20, ge=1 << 20)
    cache_word_delta: int = Field(default=5, ge=0)
    redis_timeout: float = Field(default=0.5, gt=0)
    # A finished note waits this long for the database before it is fsynced to the spool
    # instead (written later). The final `soap` goes out once one of the two is done, so
    # this is also the most a hung database adds to an answer.
    note_write_timeout: float = Field(default=2.0, gt=0, le=60)
    # Once no note is being generated, free C-heap memory goes back to the kernel if RSS
    # grew by this many MB since the last time (delphos.trim; glibc only); 0: never.
    malloc_trim_mb: int = Field(default=32, ge=0)
    # Processes that check notes' evidence (delphos/evidence/runner.py): CPU-bound Python
    # kept off the event loop's GIL; as many again for notes posted to /v1/notes/verify;
    # 0 checks in threads of the worker itself.
    evidence_processes: int = Field(default=1, ge=0, le=64)

    # --- speech --------------------------------------------------------------------------
    stt_model_dir: Path | None = None
    stt_device: Literal["cpu", "cuda", "auto"] = "cpu"
    stt_compute_type: str = "int8"
    stt_max_concurrency: int = Field(default=2, ge=1)
    # SHA-256 of model.bin that a configured stt_model_dir must match (the default
    # packaged model is always pinned).
    stt_model_sha256: str | None = None
    # CTranslate2 threads per transcription; 0 = cores / stt_max_concurrency.
    stt_cpu_threads: int = Field(default=0, ge=0)
    # Turn ends after this much silence when the text looks complete (ends with . ? !) …
    stt_min_turn_silence_ms: int = Field(default=800, ge=100, le=10_000)
    # … and after this much silence in any case.
    stt_max_turn_silence_ms: int = Field(default=2000, ge=100, le=30_000)
    # Encode Whisper's full 30 s window for every transcription (about 3x slower) instead
    # of the audio plus a 5 s margin, which measured the same word error rate.
    stt_full_window: bool = False
    # Seconds of new speech between interim transcripts of the current turn.
    stt_interim_interval_s: float = Field(default=1.0, ge=0.2, le=10.0)
    # Session audio kept for the WAV file (16 kHz int16 = 1.9 MB per minute); beyond this
    # the recording stops growing (transcription goes on).
    stt_max_session_audio_s: float = Field(default=3600.0, ge=0)
    # Keep each live session's audio as WAV (retrievable through the consultation API);
    # false means audio is never written anywhere.
    audio_retention: bool = True
    # Browser WebSocket tokens: set the secret when running several workers so a token
    # issued by one is accepted by another.
    token_secret: str | None = None
    token_ttl_seconds: int = Field(default=60, ge=5, le=3600)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """SQLite in the data directory unless a database URL is configured."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'delphos.db').as_posix()}"
