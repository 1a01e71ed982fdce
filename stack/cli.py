"""The `omni` command: up (the dev stack), token, migrate, seed, and the
operator actions with no REST route (retry-refund; stack/operations.py)."""

from __future__ import annotations

import argparse
import os
import sys

from omni.words import Channel
from stack.config import DATABASES, SERVICES, StackSettings, database_name, database_url_for


def _up(_args: argparse.Namespace) -> int:
    from stack.supervisor import Supervisor

    return Supervisor(StackSettings()).run()


def _token(args: argparse.Namespace) -> int:
    from services.gateway.auth import mint_dev_token

    sub, store_id = args.sub, args.store_id
    if args.role == "associate":
        found = _associate_for_token(args.associate_id, store_id)
        if found is None:
            return 2
        sub, store_id = found
    elif args.associate_id:
        print("omni token: --associate-id is for --role associate", file=sys.stderr)
        return 2
    print(
        mint_dev_token(
            role=args.role,
            sub=sub,
            customer_id=args.customer_id,
            store_id=store_id,
            channel=args.channel,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def _associate_for_token(associate_id: str | None, store_id: str | None) -> tuple[str, str] | None:
    """(sub, store_id) of a registered, active associate (issue 14): the one
    named, or the store's development associate, registered now. None (and a
    message) when the stack cannot say."""
    import grpc

    from stack.associates import register_development_associate, registered_associate
    from stack.identity import stack_identity_key

    settings = StackSettings()
    address = settings.address_of("orders")
    key = stack_identity_key(settings.omni_home.resolve()).encode()
    try:
        if associate_id:
            if store_id:
                return associate_id, store_id
            found = registered_associate(address, key, associate_id)
        elif store_id:
            found = register_development_associate(address, key, store_id)
        else:
            print(
                "omni token: --role associate needs --store-id or --associate-id", file=sys.stderr
            )
            return None
    except grpc.RpcError as error:
        print(
            f"omni token: the associates registry (orders at {address}) answered"
            f" {error.code().name}: {error.details()}",
            file=sys.stderr,
        )
        return None
    if not found.active:
        print(f"omni token: associate {found.associate_id} is deactivated", file=sys.stderr)
        return None
    return found.associate_id, found.store_id


def _migrate(args: argparse.Namespace) -> int:
    """With --service: DATABASE_URL is that service's database (the k8s Job).
    Without: DATABASE_URL names the server and every omni_<service> database is migrated."""
    from services.common.migrations import upgrade

    url = os.environ.get("DATABASE_URL")
    if not url:
        print("omni migrate: DATABASE_URL is not set", file=sys.stderr)
        return 2
    if args.service:
        upgrade(args.service, url)
        print(f"migrated {args.service}")
        return 0
    from stack.postgres import ensure_database

    for name in DATABASES:
        ensure_database(url, database_name(name))
        upgrade(name, database_url_for(url, database_name(name)))
        print(f"migrated {name}")
    return 0


def _seed(_args: argparse.Namespace) -> int:
    from stack.identity import stack_identity_key
    from stack.seed import seed_demo

    settings = StackSettings()
    seed_demo(
        {s: settings.address_of(s) for s in SERVICES},
        stack_identity_key(settings.omni_home.resolve()).encode(),
    )
    print("demo data seeded")
    return 0


def _retry_refund(args: argparse.Namespace) -> int:
    import asyncio

    from temporalio.client import Client

    from services.common.temporal_codec import KEY_ENV, data_converter
    from stack.codec import stack_codec_key
    from stack.operations import UNAVAILABLE, retry_refund

    settings = StackSettings()
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    # The journey's payloads are encrypted: this stack's key unless one is set.
    os.environ.setdefault(KEY_ENV, stack_codec_key(settings.omni_home.resolve()))

    async def run() -> int:
        try:
            client = await Client.connect(
                address, namespace=settings.temporal_namespace, data_converter=data_converter()
            )
        except Exception as error:
            print(f"omni retry-refund: no Temporal at {address}: {error}", file=sys.stderr)
            return UNAVAILABLE
        outcome = await retry_refund(client, args.return_id)
        print(outcome.message, file=sys.stdout if outcome.exit_status == 0 else sys.stderr)
        return outcome.exit_status

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omni", description="Omni development tools")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the whole dev stack (what `make run` does)")
    up.set_defaults(handler=_up)

    token = commands.add_parser("token", help="print a signed development token")
    token.add_argument(
        "--role", required=True, choices=["guest", "customer", "associate", "agent", "admin"]
    )
    token.add_argument("--sub", default=None, help="subject; defaults to one made from the role")
    token.add_argument("--customer-id", default=None)
    token.add_argument("--store-id", default=None)
    token.add_argument(
        "--associate-id",
        default=None,
        help="a registered associate (--role associate); without it a development"
        " associate of --store-id is registered",
    )
    token.add_argument("--channel", default=None, choices=[channel.value for channel in Channel])
    token.add_argument("--ttl", type=int, default=24 * 3600, help="lifetime in seconds")
    token.set_defaults(handler=_token)

    migrate = commands.add_parser("migrate", help="run Alembic migrations")
    migrate.add_argument("--service", choices=list(DATABASES), default=None)
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed", help="load the demo data into a running stack")
    seed.set_defaults(handler=_seed)

    retry = commands.add_parser(
        "retry-refund",
        help="retry a refund_failed return's refund now (exit 0 refunded, 1 refused again,"
        " 2 not refund_failed or unknown, 3 Temporal unreachable)",
    )
    retry.add_argument("return_id")
    retry.set_defaults(handler=_retry_refund)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    status = args.handler(args)
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can crash the interpreter at exit (DESIGN.md, known traps).
    os._exit(status)


if __name__ == "__main__":
    main()
