"""The one rule for how routes run (kit/lanes.py), checked over the route table and the routers' code,
and what it is for: no database connection is taken or handed back on the event loop."""

import ast
import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

import database
from kit import lanes
from main import create_app
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LANES = {"read", "work", "tally"}
# Thread hand-offs that bypass the lanes (and their widths) when a router calls them itself.
BYPASSES = {"run_in_threadpool", "to_thread", "run_sync", "starlette.concurrency", "anyio.to_thread",
            "fastapi.concurrency"}


def _is_async(call: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    dunder = getattr(type(call), "__call__", None)  # security schemes: instances with an async __call__
    return not inspect.isfunction(call) and dunder is not None and inspect.iscoroutinefunction(dunder)


def api_routes(routes: list[Any]) -> Iterator[Any]:
    """Every API route as served, router-level dependencies included.

    FastAPI 0.165 keeps an included router as one `_IncludedRouter` entry in `app.routes` and
    builds each route's served form (prefix and the router's dependencies merged) on demand.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "effective_candidates"):
            for candidate in route.effective_candidates():
                if isinstance(getattr(candidate, "original_route", None), APIRoute):
                    yield candidate
                else:
                    yield from api_routes([candidate])


def sync_calls(app: FastAPI) -> list[str]:
    """Every route endpoint and dependency that FastAPI would run on its thread pool, by name."""
    found: list[str] = []

    def visit(where: str, dependant: Any) -> None:
        for sub in dependant.dependencies:
            if sub.call is not None and not _is_async(sub.call):
                found.append(f"{where}: dependency {getattr(sub.call, '__name__', sub.call)!r} is not async")
            visit(where, sub)

    for route in api_routes(app.routes):
        where = f"{','.join(sorted(route.methods))} {route.path}"
        if not _is_async(route.endpoint):
            found.append(f"{where}: {route.endpoint.__name__} is a plain def")
        visit(where, route.dependant)
    return found


def lane_problems(source: str, file_name: str) -> list[str]:
    """Thread hand-offs a router makes itself, and route functions that await no lane or several."""
    problems: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module, *(f"{node.module}.{alias.name}" for alias in node.names),
                     *(alias.name for alias in node.names)}
            if names & BYPASSES:
                problems.append(f"{file_name}:{node.lineno} imports {node.module}: use kit.lanes")
        elif isinstance(node, ast.Import) and {alias.name for alias in node.names} & BYPASSES:
            problems.append(f"{file_name}:{node.lineno} imports a thread pool: use kit.lanes")
    for function in ast.walk(tree):
        if not isinstance(function, ast.AsyncFunctionDef) or not _is_route(function):
            continue
        takes_session = any(arg.arg in ("session", "tally") for arg in function.args.args)
        used = [call.func.attr for call in ast.walk(function) if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "lanes"]
        if len(used) > 1 or (takes_session and len(used) != 1) or set(used) - LANES:
            problems.append(f"{file_name}:{function.lineno} {function.name} uses lanes {used or 'none'}: "
                            "a route with I/O sends it down exactly one lane")
    return problems


def _is_route(function: ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in
               ("get", "post", "put", "delete", "patch") for d in function.decorator_list)


def test_every_route_and_dependency_of_the_app_is_async(settings: Settings) -> None:
    app = create_app(settings)

    problems = sync_calls(app)

    assert len(list(api_routes(app.routes))) >= 30  # the walk sees the whole table, not an empty one
    assert problems == []


def test_the_route_table_check_catches_a_plain_def_route_and_a_plain_def_dependency(settings: Settings) -> None:
    app = create_app(settings)
    broken = APIRouter()

    def blocking_dependency() -> int:
        return 1

    @broken.get("/broken")
    def broken_route(value: int = Depends(blocking_dependency)) -> int:
        return value

    app.include_router(broken)

    assert sync_calls(app) == ["GET /broken: broken_route is a plain def",
                               "GET /broken: dependency 'blocking_dependency' is not async"]


def test_no_router_hands_work_to_a_thread_but_through_one_lane() -> None:
    problems = [problem for path in sorted((ROOT / "routers").glob("*.py"))
                for problem in lane_problems(path.read_text(encoding="utf-8"), path.name)]

    assert problems == []


def test_the_code_check_catches_a_direct_thread_pool_and_a_route_with_two_lanes() -> None:
    source = '''
from fastapi.concurrency import run_in_threadpool
import anyio.to_thread

@router.get("/x")
async def x(session: SessionDep) -> int:
    return await run_in_threadpool(f, session)

@router.get("/y")
async def y(session: SessionDep) -> int:
    await lanes.read(f, session)
    return await lanes.work(g, session)
'''

    assert lane_problems(source, "fake.py") == [
        "fake.py:2 imports fastapi.concurrency: use kit.lanes",
        "fake.py:3 imports a thread pool: use kit.lanes",
        "fake.py:6 x uses lanes none: a route with I/O sends it down exactly one lane",
        "fake.py:10 y uses lanes ['read', 'work']: a route with I/O sends it down exactly one lane",
    ]


# --- what the rule is for: connections are taken and handed back off the event loop -------------

@pytest.fixture
def pool_events_on_the_loop() -> Iterator[Callable[[Engine], list[str]]]:
    """Watch an engine's pool: each checkout or checkin that runs on an event loop's thread."""
    watched: list[tuple[Engine, str, Callable[..., None]]] = []
    seen: list[str] = []

    def watch(engine: Engine) -> list[str]:
        for name in ("checkout", "checkin"):
            def record(*_args: Any, name: str = name) -> None:
                if asyncio._get_running_loop() is not None:
                    seen.append(f"{name} on the event loop in {threading.current_thread().name}")
            event.listen(engine, name, record)
            watched.append((engine, name, record))
        return seen

    yield watch
    for engine, name, record in watched:
        event.remove(engine, name, record)


def test_no_route_takes_or_returns_a_connection_on_the_event_loop(
        client: TestClient, pool_events_on_the_loop: Callable[[Engine], list[str]]) -> None:
    seen = pool_events_on_the_loop(client.app.state.engine)  # type: ignore[attr-defined]
    paths = ["/", "/health", "/retailers", "/retailers/NOPE", "/products", "/inventory", "/activations",
             "/debug/sync-logs", "/debug/price-history", "/admin/keys", "/admin/audit", "/debug/tally-cache",
             "/admin/products/prices/template"]

    statuses = {path: client.get(path).status_code for path in paths}
    posted = client.post("/admin/products/prices", json={"updates": [{"goods_id": "G1", "name": "Galaxy A1", "price": "10.00"}]})

    assert statuses == {**{path: 200 for path in paths}, "/retailers/NOPE": 404}
    assert posted.status_code == 200
    assert seen == []


def test_a_session_still_in_a_transaction_is_closed_on_a_thread_not_on_the_loop(
        engine: Engine, pool_events_on_the_loop: Callable[[Engine], list[str]]) -> None:
    seen = pool_events_on_the_loop(engine)
    session = database.make_sessionmaker(engine)()
    handed_back: list[str] = []
    event.listen(engine, "checkin", lambda *_: handed_back.append(threading.current_thread().name))

    async def use_then_release() -> None:
        await lanes.read(lambda: session.execute(text("SELECT 1")).scalar())  # the lane sees no session
        assert session.in_transaction()
        await lanes.release(session)

    anyio.run(use_then_release)

    assert not session.in_transaction()
    assert handed_back and handed_back[0] != threading.current_thread().name
    assert seen == []


def test_a_lane_closes_the_session_it_was_handed_in_its_own_thread(engine: Engine) -> None:
    session = database.make_sessionmaker(engine)()

    async def read_one() -> int:
        return await lanes.read(lambda s: s.execute(text("SELECT 1")).scalar_one(), session)

    value = anyio.run(read_one)

    assert value == 1 and not session.in_transaction()
