"""Start the service the way `make run` and start_server.bat do: WORKERS processes on one port.

    python serve.py [--host 127.0.0.1] [--port 8000]

Plain `uvicorn main:app` still works and runs one process; this adds the worker count from the
settings (WORKERS in `.env`, default 2: one per core of a small office server). Every worker is a
full copy of the app: imports stay one at a time across them (process_lock.py).
"""

import argparse

import uvicorn

from settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the office LAN")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = Settings()
    uvicorn.run("main:app", host=args.host, port=args.port, workers=settings.workers, access_log=False,
                log_level=settings.log_level.lower())


if __name__ == "__main__":
    main()
