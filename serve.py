"""Start the service the way `make run` and start_server.bat do: WORKERS processes on one port.

    python serve.py [--host 127.0.0.1] [--port 8000]

Plain `uvicorn main:app` still works and runs one process; this adds the worker count from the
settings (WORKERS in `.env`, default 2: one per core of a small office server). Every worker is a
full copy of the app; imports stay one at a time across them (kit/process_lock.py).

Where the OS has SO_REUSEPORT (Linux), each worker listens on its own socket and the kernel
spreads new connections evenly between them. uvicorn's own `--workers` shares one socket, and
the first worker to wake accepts a whole burst: measured with bench/load.py, 50 clients split
39/11, and the busier worker's clients waited three times as long. Elsewhere (Windows) this falls
back to uvicorn's `--workers`.
"""

import argparse
import logging
import multiprocessing
import signal
import socket
import sys
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

from settings import Settings

log = logging.getLogger("serve")

# A worker that dies is restarted after a pause that doubles while its successors keep dying
# (1 s, 2 s, 4 s ... 60 s): a fault that kills every worker at start (a bad .env, a full disk)
# costs one log line a minute, not a busy loop, and the service comes back by itself once it is
# fixed. The supervisor itself never gives up; only Ctrl+C or SIGTERM stops it.
FIRST_RESTART_DELAY_SECONDS = 1.0
MAX_RESTART_DELAY_SECONDS = 60.0
STEADY_SECONDS = 60.0  # a worker that lived this long died of something new: start the pauses over
POLL_SECONDS = 0.2


def restart_delay(previous: float | None, lived: float) -> float:
    """The pause before restarting a worker that lived `lived` s, when the last pause was `previous` s."""
    if previous is None or lived >= STEADY_SECONDS:
        return FIRST_RESTART_DELAY_SECONDS
    return min(previous * 2, MAX_RESTART_DELAY_SECONDS)


def describe_exit(exitcode: int | None) -> str:
    """'exit code 1' or 'killed by SIGKILL', from a multiprocessing exit code."""
    if exitcode is None:
        return "no exit code"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _run_worker(host: str, port: int, log_level: str) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    config = uvicorn.Config("main:app", access_log=False, log_level=log_level)
    uvicorn.Server(config).run(sockets=[_listening_socket(host, port)])


def _port_taken(host: str, port: int) -> bool:
    # SO_REUSEPORT would let a second copy of this service bind beside the first and share its
    # traffic unnoticed; a connect tells whether anything already listens there.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1" if host in ("0.0.0.0", "") else host, port)) == 0


@dataclass
class _Slot:
    """One worker's place: the process running in it, or when the next one starts."""

    process: BaseProcess | None
    started_at: float
    delay: float | None = None  # the last pause before a restart in this place
    restart_at: float = 0.0


def supervise(host: str, port: int, workers: int, log_level: str) -> int:
    """Start `workers` processes, restart any that dies (with growing pauses), stop on Ctrl+C or SIGTERM."""
    if _port_taken(host, port):
        log.error("port %d is already in use: is the service running already?", port)
        return 1
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(target=_run_worker, args=(host, port, log_level), daemon=False)
        process.start()
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    slots = [_Slot(start(), time.monotonic()) for _ in range(workers)]
    log.info("serving on http://%s:%d with %d worker processes (Ctrl+C stops)", host, port, workers)
    while not stopping:
        time.sleep(POLL_SECONDS)
        now = time.monotonic()
        for slot in slots:
            if stopping:
                break
            if slot.process is None:
                if now >= slot.restart_at:
                    slot.process, slot.started_at = start(), now
                    log.info("worker %d started", slot.process.pid)
                continue
            if slot.process.is_alive():
                continue
            lived = now - slot.started_at
            slot.delay = restart_delay(slot.delay, lived)
            slot.restart_at = now + slot.delay
            log.warning("worker %d stopped (%s) after %.1f s; starting another in %.0f s",
                        slot.process.pid, describe_exit(slot.process.exitcode), lived, slot.delay)
            slot.process = None
    running = [slot.process for slot in slots if slot.process is not None]
    for process in running:
        if process.is_alive():
            process.terminate()  # uvicorn finishes the requests in hand on SIGTERM
    for process in running:
        process.join(30)
        if process.is_alive():
            process.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the office LAN")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = Settings()
    # The supervisor's own lines; each worker's uvicorn sets up logging in its process.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s serve: %(message)s", stream=sys.stderr)
    log_level = settings.log_level.lower()
    if settings.workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        return supervise(args.host, args.port, settings.workers, log_level)
    uvicorn.run("main:app", host=args.host, port=args.port, workers=settings.workers, access_log=False,
                log_level=log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
