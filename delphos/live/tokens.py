"""Short-lived, single-use tokens for browser WebSockets.

Browsers cannot set headers on a WebSocket, and a long-lived API key must never travel in
a URL (it ends up in proxy and server logs). So a browser's backend — or the browser, with
a key it already holds for the REST API — asks `POST /v1/transcription/token` (with
`x-api-key`) and opens `wss://…/ws/transcribe?token=…` within the token's lifetime. A
token is an HMAC-signed (tenant, expiry, nonce) and is accepted once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from delphos.coordination import Coordinator
from delphos.records import TenantRef


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    def __init__(self, secret: bytes, ttl_seconds: int, coordinator: Coordinator) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._coordinator = coordinator
        # Nonces already redeemed in this process: the coordinator's lock covers the other
        # workers, and this record still holds while Redis is down (the lock fails open).
        self._used: dict[str, float] = {}

    def issue(self, tenant: TenantRef) -> IssuedToken:
        body = {
            "t": tenant.id,
            "n": tenant.name,
            "e": int(time.time()) + self._ttl,
            "x": secrets.token_urlsafe(12),
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())
        return IssuedToken(token=f"{payload}.{signature}", expires_in=self._ttl)

    async def redeem(self, token: str) -> TenantRef | None:
        """The token's tenant, once; None if forged, expired or already used."""
        payload, _, signature = token.partition(".")
        try:
            expected = _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(expected, signature):
                return None
            body = json.loads(_unb64(payload))
            tenant = TenantRef(id=str(body["t"]), name=str(body["n"]))
            expires, nonce = int(body["e"]), str(body["x"])
        except (ValueError, KeyError, TypeError):
            return None
        now = time.time()
        if expires < now:
            return None
        self._used = {n: e for n, e in self._used.items() if e >= now}
        if nonce in self._used:
            return None
        self._used[nonce] = expires
        # Across workers: the first to take the nonce's lock wins.
        claimed = await self._coordinator.try_lock(f"ws-token:{nonce}", ttl_seconds=self._ttl + 5)
        if claimed is None:
            return None
        return tenant
