"""Admin tasks from a shell, on the database in DATABASE_URL.

    python manage.py create-key NAME ROLE     # ROLE: viewer | accounts | admin; prints the key once
    python manage.py list-keys
    python manage.py revoke-key NAME
    python manage.py ensure-admin-key         # first run: makes an admin key if there is no key at all
"""

import argparse
import sys

import database
from access import keys
from access.actor import ROLES, Actor
from errors import AppError
from settings import Settings

CLI = Actor(name="manage.py", role="admin", address="local shell")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", help="create a key and print it once")
    create.add_argument("name")
    create.add_argument("role", choices=ROLES)
    commands.add_parser("list-keys", help="list keys (never the keys themselves)")
    revoke = commands.add_parser("revoke-key", help="revoke a key by name")
    revoke.add_argument("name")
    commands.add_parser("ensure-admin-key", help="create an admin key when the database has none")
    args = parser.parse_args(argv)

    engine = database.make_engine(Settings().database_url)
    database.upgrade_schema(engine)
    try:
        with database.make_sessionmaker(engine)() as session:
            if args.command == "create-key":
                created = keys.create_key(session, name=args.name, role=args.role, actor=CLI)
                print(f"Created {created.role} key {created.name!r}. Copy it now; it is not shown again:\n\n    {created.key}\n")
            elif args.command == "list-keys":
                for key in keys.list_keys(session):
                    state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                    used = f"last used {key.last_used_at:%Y-%m-%d %H:%M} UTC" if key.last_used_at else "never used"
                    print(f"{key.name:<24} {key.role:<9} {key.prefix}...  {state:<18} {used}")
            elif args.command == "revoke-key":
                keys.revoke_key(session, name=args.name, actor=CLI)
                print(f"Revoked key {args.name!r}.")
            elif keys.count_active(session) == 0:
                created = keys.create_key(session, name="first-admin", role="admin", actor=CLI)
                print("\nNo API key existed, so an admin key was made. Copy it now; it is not shown again:\n\n"
                      f"    X-API-Key: {created.key}\n\n"
                      "Make more with: python manage.py create-key NAME viewer|accounts|admin\n")
    except AppError as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
