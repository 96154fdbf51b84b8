"""What the shell commands (`manage.py`, `prm_import.py`) share: the database they work on, said
out loud, and the way to run them that works on this computer."""

import argparse
import os

from sqlalchemy.engine import make_url

from settings import Settings


def venv_python() -> str:
    """How to run the project's Python here: `.venv/bin/python` on Linux, `.venv\\Scripts\\python` on Windows."""
    return ".venv\\Scripts\\python" if os.name == "nt" else ".venv/bin/python"


def command(line: str) -> str:
    """`manage.py create-key ...` as a line to type on this computer."""
    return f"{venv_python()} {line}"


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL",
                        help="the database to use (default: DATABASE_URL from the environment or .env, "
                             "else sqlite:///./dist_backend.db; `make demo` uses its own, printed when it starts)")


def chosen_database(args: argparse.Namespace) -> str:
    """The database URL the command works on: --database, else the settings' DATABASE_URL."""
    return Settings(database_url=args.database).database_url if args.database else Settings().database_url


def shown(url: str) -> str:
    """The URL with its password hidden, to say which database a command works on."""
    return make_url(url).render_as_string(hide_password=True)
