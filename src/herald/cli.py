"""`herald`: serve (or api and worker apart), migrate, and show or regenerate the environments' secret keys.

Every command reads the same `HERALD_*` settings as the server, so `herald keys` run beside a
running server shows that server's keys.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from herald.config import Settings
from herald.kit.crypto import MasterKeyError, SecretBox, load_master_key
from herald.kit.lean_imports import load_libraries_without_unused_extras
from herald.kit.long_running import tune_garbage_collection_for_serving
from herald.ratelimit.policy import SERVICE_LEVELS

if TYPE_CHECKING:
    from herald.db import Database
    from herald.environments.service import EnvironmentCredentials, InstallationCredentials
    from herald.ratelimit.service import EnvironmentLevel

T = TypeVar("T")
app = typer.Typer(help="Herald: notification infrastructure that speaks Novu's API.", no_args_is_help=True)
keys_app = typer.Typer(help="Show the environments' application identifiers and secret keys.")
app.add_typer(keys_app, name="keys")
rate_limit_app = typer.Typer(
    help="Show or change the environments' rate-limit service levels "
    f"({', '.join(SERVICE_LEVELS)}); running servers pick a change up within seconds."
)
app.add_typer(rate_limit_app, name="rate-limit")

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 3000) -> None:
    """Run the API and the delivery engine in one process on the configured database
    (embedded SQLite by default)."""
    _serve_api(host, port, run_worker=True)


@app.command()
def api(host: Host = "127.0.0.1", port: Port = 3000) -> None:
    """Run only the API; `herald worker` processes deliver (PostgreSQL wakes them at once)."""
    _serve_api(host, port, run_worker=False)


@app.command()
def worker() -> None:
    """Run only the delivery engine (and the idempotency cleanup); stops gracefully on
    SIGTERM or Ctrl-C, letting running jobs finish."""
    from herald.engine.process import serve_worker
    from herald.logs import configure_logging
    from herald.startup import prepare_installation

    settings = Settings()
    configure_logging(settings.log_level)

    async def run(database: Database, box: SecretBox) -> None:
        await prepare_installation(database, box)
        tune_garbage_collection_for_serving()
        await serve_worker(database, settings)

    _run_with_database(settings, run)


def _serve_api(host: str, port: int, *, run_worker: bool) -> None:
    import uvicorn

    from herald.app import create_app
    from herald.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    _fail_on_master_key_problem(lambda: load_master_key(settings))
    app = create_app(settings, run_worker=run_worker)
    tune_garbage_collection_for_serving()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        **app.uvicorn_websocket_options(),
    )


@app.command()
def migrate() -> None:
    """Apply pending database migrations and bootstrap the installation on first run."""
    from herald.logs import configure_logging
    from herald.startup import prepare_installation

    settings = Settings()
    configure_logging(settings.log_level)

    async def run(database: Database, box: SecretBox) -> None:
        await prepare_installation(database, box)

    _run_with_database(settings, run)
    typer.echo("Database is up to date.")


@keys_app.callback(invoke_without_command=True)
def keys(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Print each environment's name, id, application identifier and secret key."""
    if ctx.invoked_subcommand is not None:
        return
    from herald.environments.service import installation_credentials
    from herald.logs import configure_logging
    from herald.startup import prepare_installation

    settings = Settings()
    configure_logging("warning")

    async def run(database: Database, box: SecretBox) -> InstallationCredentials:
        await prepare_installation(database, box)
        async with database.session(write=False) as session:
            return await installation_credentials(session, box)

    credentials = _run_with_database(settings, run)
    if as_json:
        typer.echo(json.dumps(_credentials_json(credentials), indent=2))
        return
    typer.echo(f"Organization {credentials.organization_id}\n")
    for environment in credentials.environments:
        _print_environment(environment)


@keys_app.command("regenerate")
def regenerate(
    environment: Annotated[
        str, typer.Option("--environment", "-e", help="Environment name, e.g. Production.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Replace an environment's secret key; the old key stops working at once."""
    from herald.environments.service import regenerate_key_by_name
    from herald.logs import configure_logging
    from herald.startup import prepare_installation

    settings = Settings()
    configure_logging("warning")

    async def run(database: Database, box: SecretBox) -> EnvironmentCredentials:
        await prepare_installation(database, box)
        async with database.session(write=True) as session:
            return await regenerate_key_by_name(session, box, environment)

    credentials = _run_with_database(settings, run)
    if as_json:
        typer.echo(json.dumps(_environment_json(credentials), indent=2))
        return
    typer.echo("New secret key; the previous one no longer works.\n")
    _print_environment(credentials)


EnvironmentOption = Annotated[
    str, typer.Option("--environment", "-e", help="Environment name, e.g. Production.")
]


@rate_limit_app.command("show")
def rate_limit_show() -> None:
    """Print each environment's service level and whether it is its own or the default."""
    from herald.logs import configure_logging
    from herald.ratelimit.service import environment_levels
    from herald.startup import prepare_installation

    settings = Settings()
    configure_logging("warning")

    async def run(database: Database, box: SecretBox) -> list[EnvironmentLevel]:
        await prepare_installation(database, box)
        async with database.session(write=False) as session:
            return await environment_levels(session, settings.rate_limit_level)

    state = "on" if settings.rate_limit_enabled else "off (HERALD_RATE_LIMIT_ENABLED=false)"
    levels = _run_with_database(settings, run)
    typer.echo(f"Rate limiting {state}; default level {settings.rate_limit_level}\n")
    for level in levels:
        origin = "own" if level.overridden else "default"
        typer.echo(f"{level.name:<24} {level.service_level:<12} ({origin})")


@rate_limit_app.command("set")
def rate_limit_set(
    environment: EnvironmentOption,
    level: Annotated[str, typer.Option("--level", "-l", help=f"One of {', '.join(SERVICE_LEVELS)}.")],
) -> None:
    """Give an environment its own service level."""
    _change_level(environment, level)
    typer.echo(f"{environment}: service level {level}")


@rate_limit_app.command("clear")
def rate_limit_clear(environment: EnvironmentOption) -> None:
    """Return an environment to the default service level (HERALD_RATE_LIMIT_LEVEL)."""
    _change_level(environment, None)
    typer.echo(f"{environment}: default service level")


def _change_level(environment: str, level: str | None) -> None:
    from herald.logs import configure_logging
    from herald.ratelimit.service import set_environment_level
    from herald.startup import prepare_installation

    settings = Settings()
    configure_logging("warning")

    async def run(database: Database, box: SecretBox) -> None:
        await prepare_installation(database, box)
        async with database.session(write=True) as session:
            await set_environment_level(session, environment, level)

    _run_with_database(settings, run)


def _run_with_database(settings: Settings, work: Callable[[Database, SecretBox], Awaitable[T]]) -> T:
    from herald.db import Database
    from herald.errors import HeraldError

    box = _fail_on_master_key_problem(lambda: SecretBox(load_master_key(settings)))

    async def main() -> T:
        database = Database(settings)
        try:
            return await work(database, box)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except HeraldError as error:
        typer.secho(f"error: {error.message}", fg="red", err=True)
        raise typer.Exit(1) from None
    except MasterKeyError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from None


def _fail_on_master_key_problem(load: Callable[[], T]) -> T:
    try:
        return load()
    except MasterKeyError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None


def _print_environment(environment: EnvironmentCredentials) -> None:
    typer.echo(f"{environment.name}")
    typer.echo(f"  environment id          {environment.id}")
    typer.echo(f"  application identifier  {environment.identifier}")
    typer.echo(f"  secret key              {environment.secret_key}\n")


def _environment_json(environment: EnvironmentCredentials) -> dict[str, str]:
    return {
        "id": environment.id,
        "name": environment.name,
        "identifier": environment.identifier,
        "secretKey": environment.secret_key,
    }


def _credentials_json(credentials: InstallationCredentials) -> dict[str, object]:
    return {
        "organizationId": credentials.organization_id,
        "environments": [_environment_json(env) for env in credentials.environments],
    }


def main() -> None:
    load_libraries_without_unused_extras()
    app()
