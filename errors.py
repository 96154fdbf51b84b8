"""Domain errors, and the one function that turns any exception into an HTTP answer.

Every error body has the same shape, `{"detail": "...", "errors": [{loc, msg, type}]}`, so a
frontend needs one code path to show what went wrong next to the thing that caused it.
"""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


log = logging.getLogger("dist.errors")


# The error body is declared here, beside the errors, so that every layer (the toolkit too) can
# raise an AppError without importing the schemas.
class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str = "invalid"


class ErrorBody(BaseModel):
    detail: str = Field(description="One sentence a person can act on.")
    errors: list[ErrorItem] = Field(default_factory=list)
    request_id: str | None = Field(default=None, description="Only on 500s; the same id is in the server log.")


class AppError(Exception):
    status_code: ClassVar[int] = 400

    def __init__(self, detail: str, errors: list[ErrorItem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class PayloadTooLarge(AppError):
    status_code = 413


class UnsupportedMediaType(AppError):
    status_code = 415


class InvalidInput(AppError):
    status_code = 422


class TallyError(AppError):
    """Tally answered, but with an error of its own."""

    status_code = 502


class TallyUnavailable(AppError):
    """Tally could not be reached, or did not answer in time."""

    status_code = 503


def item(loc: list[str | int], msg: str, type_: str = "invalid") -> ErrorItem:
    return ErrorItem(loc=loc, msg=msg, type=type_)


def _body(detail: str, errors: list[ErrorItem], status_code: int, request_id: str | None = None) -> JSONResponse:
    body = ErrorBody(detail=detail, errors=errors, request_id=request_id)
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status_code)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _short_loc(loc: tuple[Any, ...]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def field_path(loc: list[str | int]) -> str:
    """["body", "updates", 3, "price"] -> "updates[3].price": how a person names a field."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path", "header") and not path:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "the request"


def _describe_validation(errors: list[ErrorItem]) -> str:
    if not errors:
        return "The request is not valid."
    shown = "; ".join(f"{field_path(error.loc)}: {error.msg}" for error in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    if len(errors) == 1:
        return f"Invalid value for {shown}."
    return f"{len(errors)} values are invalid, so nothing was done: {shown}{more}."


async def _on_app_error(request: Request, exc: AppError) -> JSONResponse:
    response = _body(exc.detail, exc.errors, exc.status_code)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "ApiKey"
    return response


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        ErrorItem(loc=_short_loc(tuple(err.get("loc", ()))), msg=str(err.get("msg", "")), type=str(err.get("type", "invalid")))
        for err in exc.errors()
    ]
    return _body(_describe_validation(errors), errors, 422)


async def _on_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is no endpoint at {request.url.path}; see /docs for the list."
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 400 and detail == "There was an error parsing the body":
        # The body's bytes are not JSON or form data at all: unprocessable, like any other bad body.
        status = 422
        detail = "The request body could not be read: it is not valid JSON or form data, or it is nested too deeply."
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}; see /docs for the allowed methods."
        headers["Allow"] = ", ".join(_allowed_methods(request))
    response = _body(detail, [], status)
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    from starlette.routing import Match

    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    routes = list(request.app.router.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # FastAPI wraps each included router
        if included is not None:
            routes.extend(included.routes)
            continue
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _on_integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
    # A safety net: services check their own conflicts, so reaching here means a race.
    log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
    return _body("The change conflicts with data that already exists; reload and try again.", [], 409)


async def _on_data_error(request: Request, exc: DataError) -> JSONResponse:
    # PostgreSQL refuses NUL bytes in text and numbers past a column's range; SQLite stores them.
    log.info("data error on %s %s: %s", request.method, request.url.path, str(exc.orig).splitlines()[0])
    return _body("A value is out of range, or holds a character the database cannot store (such as a NUL byte).",
                 [], 422)


# SQLite's primary result codes (https://sqlite.org/rescode.html); extended codes keep them in the low byte.
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_FULL = 5, 6, 8, 14, 13
# PostgreSQL SQLSTATEs (appendix A of its manual): waits that a retry ends, and a full disk.
_PG_BUSY = {"55P03", "40001", "40P01", "57014"}  # lock_not_available, serialization, deadlock, timeout
_PG_FULL = {"53100"}  # disk_full
_PG_READ_ONLY = {"25006"}  # read_only_sql_transaction (a hot standby)
_BUSY = "The database is busy; try again in a moment."
_UNREACHABLE = "The database cannot be reached; try again in a moment, or ask the administrator to check it."
_FULL = "The database disk is full; free space on the server's disk, then try again."
_READ_ONLY = "The database file is read-only; ask the administrator to make it writable for the service."


def _database_trouble(exc: OperationalError | PoolTimeout) -> str | None:
    """What a person should hear for a database error that is the server's condition, not a bug.

    None means a bug (a missing column, bad SQL): that is a 500 with its traceback, never
    "busy, try again", because trying again will never help.
    """
    if isinstance(exc, PoolTimeout):
        return _BUSY  # every pooled connection is in use
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return {_SQLITE_BUSY: _BUSY, _SQLITE_LOCKED: _BUSY, _SQLITE_FULL: _FULL, _SQLITE_READONLY: _READ_ONLY,
                _SQLITE_CANTOPEN: _UNREACHABLE}.get(code & 0xFF)
    state = getattr(orig, "sqlstate", None)
    if state is None:
        # psycopg raises OperationalError without an SQLSTATE when it cannot connect at all.
        return _UNREACHABLE if orig is not None and type(orig).__module__.startswith("psycopg") else None
    if state in _PG_BUSY:
        return _BUSY
    if state in _PG_FULL:
        return _FULL
    if state in _PG_READ_ONLY:
        return _READ_ONLY
    return _UNREACHABLE if state.startswith(("08", "57P")) else None  # connection lost; server shutting down


async def _on_operational_error(request: Request, exc: OperationalError | PoolTimeout) -> JSONResponse:
    detail = _database_trouble(exc)
    if detail is None:
        # Handled inside the request log middleware, which adds the X-Request-ID header itself.
        return _internal_error(request, exc)
    log.error("database error on %s %s (request %s): %s", request.method, request.url.path, _request_id(request),
              getattr(exc, "orig", exc))
    return _body(detail, [], 503, _request_id(request))


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = _request_id(request)
    log.error("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id, exc_info=exc)
    return _body(f"Internal server error (request id {request_id}).", [], 500, request_id)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    response = _internal_error(request, exc)
    request_id = _request_id(request)
    # Starlette answers 500s outside our middleware, so the id header is added here.
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _on_app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _on_integrity_error)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _on_data_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _on_operational_error)  # type: ignore[arg-type]
    app.add_exception_handler(PoolTimeout, _on_operational_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
