"""`delphos` command line: serve, migrate, and manage API keys."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
from collections.abc import Sequence

from delphos import __version__, logs
from delphos.settings import Settings

# Not imported from delphos.metrics: prometheus_client must not load before it is set.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How long uvicorn keeps an idle connection open: proxies and clients may hold a stream
# open for a long generation, and reuse the connection after it.
KEEP_ALIVE_SECONDS = 30


def _dev_key(settings: Settings) -> str:
    """The development key: made once, kept in the data directory (mode 0600)."""
    path = settings.data_dir / "dev-api-key"
    if path.exists():
        return path.read_text().strip()
    from delphos.db.database import private_dir

    private_dir(settings.data_dir)
    key = "dlp_dev_" + secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    host = args.host or settings.host
    port = args.port or settings.port
    if args.migrate:
        _migrate(settings)
    if args.dev_key and not settings.api_keys:
        key = _dev_key(settings)
        # Through the environment, so every worker's Settings() sees it.
        os.environ["DELPHOS_API_KEYS"] = key
        # The key rides in the URL fragment, which the browser never sends to a server;
        # the page moves it to the tab's sessionStorage and clears it from the address bar.
        print(
            f"\n  Open the workspace: http://{host}:{port}/#key={key}\n"
            "\n  Delphos development API key (also in "
            f"{settings.data_dir / 'dev-api-key'}):\n\n    {key}\n\n"
            f"  Try: curl -N -X POST http://{host}:{port}/v1/consultation/progressive-soap/stream"
            f" -H 'Content-Type: application/json' -H \"x-api-key: {key}\" "
            '-d \'{"consultation_id": "demo-1", "accumulated_text": '
            '"Patient reports headache for 3 days. BP 120/80."}\'\n',
            flush=True,
        )
    elif not settings.api_keys:
        print(
            "  No DELPHOS_API_KEYS set: only keys made with `delphos keys create` are accepted.",
            flush=True,
        )
    if args.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Metrics from every worker: each writes its values here, /metrics sums them.
        # Emptied at each start (stale files would count dead workers).
        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(mode=0o700, parents=True)
        os.environ[MULTIPROC_ENV] = str(metrics_dir)
    uvicorn.run(
        "delphos.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level=settings.log_level,
        # JSON lines: uvicorn's own loggers go through the root handler configured in
        # main(), instead of uvicorn's text format.
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def _migrate(settings: Settings) -> None:
    from delphos.db.database import private_dir
    from delphos.db.migrate import upgrade_sync

    private_dir(settings.data_dir)
    upgrade_sync(settings.resolved_database_url)
    print("  Database is up to date.", flush=True)


def _migrate_command(args: argparse.Namespace) -> int:
    _migrate(Settings())
    return 0


def _keys(args: argparse.Namespace) -> int:
    from delphos.db import keys
    from delphos.db.database import Database

    settings = Settings()

    async def run() -> int:
        db = Database(settings.resolved_database_url)
        try:
            if args.keys_command == "create":
                raw, info = await keys.create_key(db, args.tenant, label=args.label)
                print(f"Created key {info.id} for tenant {args.tenant!r}. It is shown only once:")
                print(raw)
                return 0
            if args.keys_command == "list":
                rows = await keys.list_keys(db, args.tenant)
                print(f"{'id':<34} {'tenant':<20} {'prefix':<14} {'created':<26} status")
                for k in rows:
                    status = "revoked" if k.revoked_at else "active"
                    print(
                        f"{k.id:<34} {k.tenant_name:<20} {k.prefix:<14} "
                        f"{k.created_at.isoformat(timespec='seconds'):<26} {status}"
                    )
                return 0
            if args.keys_command == "revoke":
                if await keys.revoke_key(db, args.key_id):
                    print(f"Revoked {args.key_id}.")
                    return 0
                print(f"No active key {args.key_id!r}.", file=sys.stderr)
                return 1
            return 2
        finally:
            await db.aclose()

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="delphos", description=__doc__)
    parser.add_argument("--version", action="version", version=f"delphos {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server (uvicorn)")
    serve.add_argument("--host", default=None, help="default: DELPHOS_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: DELPHOS_PORT or 8000")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument(
        "--dev-key",
        action="store_true",
        help="when DELPHOS_API_KEYS is unset, accept (and print) a local development key",
    )
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=_migrate_command)

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key (printed once)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default=None)
    lst = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    lst.add_argument("--tenant", default=None)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key_id")
    keys.set_defaults(func=_keys)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(
        os.environ.get("DELPHOS_LOG_LEVEL", "info"), os.environ.get("DELPHOS_LOG_FORMAT", "text")
    )
    result: int = args.func(args)
    return result
