"""Admin tasks from a shell, on the database in DATABASE_URL (or --database URL).

    .venv/bin/python manage.py create-key NAME ROLE   # ROLE: viewer | accounts | admin; prints the key once
    .venv/bin/python manage.py list-keys
    .venv/bin/python manage.py revoke-key NAME
    .venv/bin/python manage.py ensure-admin-key       # first run: an admin key if there is no key at all

On Windows the Python is .venv\\Scripts\\python. The first admin key is also written to
first-admin-key.txt beside this file, readable by this account only, so a closed window never
loses it; delete the file once the key is kept somewhere safe.
"""

import argparse
import os
import sys
from pathlib import Path

import database
from access import keys
from access.actor import ROLES, Actor
from errors import AppError
from kit.commands import add_database_option, chosen_database, command, shown

FIRST_KEY_FILE = Path(__file__).resolve().parent / "first-admin-key.txt"

CLI = Actor(name="manage.py", role="admin", address="local shell")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    add_database_option(common)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", parents=[common], help="create a key and print it once")
    create.add_argument("name")
    create.add_argument("role", choices=ROLES)
    commands.add_parser("list-keys", parents=[common], help="list keys (never the keys themselves)")
    revoke = commands.add_parser("revoke-key", parents=[common], help="revoke a key by name")
    revoke.add_argument("name")
    first = commands.add_parser("ensure-admin-key", parents=[common], help="create an admin key when the database has none")
    first.add_argument("--key-file", type=Path, default=FIRST_KEY_FILE,
                       help=f"where the first admin key is also kept (default {FIRST_KEY_FILE.name} beside manage.py)")
    args = parser.parse_args(argv)

    url = chosen_database(args)
    print(f"database: {shown(url)}", file=sys.stderr)
    engine = database.make_engine(url)
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
                _keep_first_key(args.key_file, created.key, url)
                print("\nNo API key existed, so an admin key was made. Copy it now; it is not shown again:\n\n"
                      f"    X-API-Key: {created.key}\n\n"
                      f"It is also in {args.key_file} (readable by this account only); delete that file once\n"
                      "the key is kept somewhere safe.\n"
                      f"Make more with: {command('manage.py create-key NAME viewer|accounts|admin')}\n")
    except AppError as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _keep_first_key(path: Path, key: str, url: str) -> None:
    """Write the first admin key to a file only this account can read: a double-clicked window that
    closes must not take the only admin key with it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(f"X-API-Key: {key}\nfor the database {shown(url)}\n")


if __name__ == "__main__":
    raise SystemExit(main())
