"""`/` and `/health`."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kit import lanes
from system import health
from schemas import HealthRead, RootRead
from settings import APP_NAME, APP_VERSION

router = APIRouter(tags=["system"])


@router.get("/", summary="Service name, version and links", response_model=RootRead)
async def root() -> RootRead:  # from memory: no lane
    return RootRead(name=APP_NAME, version=APP_VERSION, docs="/docs", redoc="/redoc", health="/health", ui="/ui/")


@router.get(
    "/health",
    summary="Is the service and its database up",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "The database is unreachable."}},
)
async def get_health(request: Request) -> JSONResponse:
    report = await lanes.read(health.check, request.app.state.engine, request.app.state.tally)
    return JSONResponse(report.model_dump(mode="json", exclude_none=True), status_code=200 if report.status == "ok" else 503)
