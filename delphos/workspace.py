"""The clinician's workspace page: the static files of delphos/web/, served as they are
(no build step). ``/`` is the page; ``/web/…`` its scripts and styles. Nothing here is
secret or patient data: the page asks the API for everything with the clinician's key."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).parent / "web"

# Every asset from this server and nothing else: no CDN, no inline script, no framing.
# `connect-src 'self'` covers the page's own ws:// socket (CSP Level 3).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Revalidate every time: an updated Delphos serves its updated page at once.
    "Cache-Control": "no-cache",
}


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


async def page(request: Request) -> Response:
    return FileResponse(WEB_DIR / "index.html", headers=SECURITY_HEADERS)


routes = [
    Route("/", page, methods=["GET"]),
    Mount("/web", app=_Assets(directory=WEB_DIR), name="web"),
]
