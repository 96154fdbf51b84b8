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
import multiprocessing
import signal
import socket
import sys
import time
from types import FrameType

import uvicorn

from settings import Settings

RESTART_PAUSE_SECONDS = 1.0
QUICK_DEATH_SECONDS = 10.0  # a worker that dies this soon after starting, twice running, is not restarted


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


def supervise(host: str, port: int, workers: int, log_level: str) -> int:
    """Start `workers` processes, restart one that dies, stop them all on Ctrl+C or SIGTERM."""
    if _port_taken(host, port):
        print(f"port {port} is already in use: is the service running already?", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_run_worker, args=(host, port, log_level), daemon=False)
        process.start()
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    processes = [start() for _ in range(workers)]
    started = {process.pid: time.monotonic() for process in processes}
    quick_deaths = 0
    print(f"serving on http://{host}:{port} with {workers} worker processes (Ctrl+C stops)", flush=True)
    while not stopping:
        time.sleep(0.2)
        for index, process in enumerate(processes):
            if process.is_alive() or stopping:
                continue
            lived = time.monotonic() - started.pop(process.pid, 0.0)
            quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
            if quick_deaths >= 2:
                print("workers keep dying right after start; see the messages above. Stopping.", file=sys.stderr)
                stopping = True
                break
            print(f"worker {process.pid} stopped (exit code {process.exitcode}); starting another", file=sys.stderr)
            time.sleep(RESTART_PAUSE_SECONDS)
            processes[index] = start()
            started[processes[index].pid] = time.monotonic()
    for process in processes:
        if process.is_alive():
            process.terminate()  # uvicorn finishes the requests in hand on SIGTERM
    for process in processes:
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
    log_level = settings.log_level.lower()
    if settings.workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        return supervise(args.host, args.port, settings.workers, log_level)
    uvicorn.run("main:app", host=args.host, port=args.port, workers=settings.workers, access_log=False,
                log_level=log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
