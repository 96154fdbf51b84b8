"""PRM import and its run log."""

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from kit import lanes
import prm_import
from database import SessionDep
from prm_import import ImportOptions
from routers.deps import VIEWER, XLSX_RESPONSE, AdminDep, PageDep, error_responses, file_response
from schemas import ImportSummary, Page, SyncRunDetail, SyncRunRead

router = APIRouter(tags=["prm import"])


@router.post(
    "/run/prm-sync",
    summary="Import a PRM IMEI workbook (upload `file`, or PRM_FILE_PATH when none)",
    response_model=ImportSummary,
    status_code=200,
    responses=error_responses(400, 409, 413, 415, 422, 503),
)
async def run_prm_sync(
    request: Request,
    session: SessionDep,
    actor: AdminDep,
    file: Annotated[UploadFile | None, File(description="The portal's IMEI/SN Report as .xlsx")] = None,
    strict: Annotated[bool, Query(description="Import nothing if any row has an error.")] = False,
    dry_run: Annotated[bool, Query(description="Check and show what would change; write nothing.")] = False,
    force: Annotated[bool, Query(description="Import even if these exact bytes were the last import.")] = False,
    confirm_shrink: Annotated[bool, Query(description="Accept a file that leaves under half the previous stock.")] = False,
) -> ImportSummary:
    options = ImportOptions(strict=strict, dry_run=dry_run, force=force, confirm_shrink=confirm_shrink)
    return await lanes.work(prm_import.import_upload, session, upload=file.file if file else None,
                            filename=file.filename if file else None,
                            fallback_path=request.app.state.settings.prm_file_path, options=options, actor=actor)


@router.get("/debug/sync-logs", summary="Import runs, newest first", response_model=Page[SyncRunRead],
            responses=error_responses(422), dependencies=[VIEWER])
async def list_sync_logs(
    session: SessionDep,
    page: PageDep,
    status: Annotated[str | None, Query(pattern="^(running|success|failed|dry_run|abandoned)$")] = None,
) -> Page[SyncRunRead]:
    return await lanes.read(prm_import.list_runs, session, page=page, status=status)


@router.get("/debug/sync-logs/{run_id}", summary="One import run with its row errors (paginated)",
            response_model=SyncRunDetail, responses=error_responses(404, 422), dependencies=[VIEWER])
async def get_sync_log(
    session: SessionDep,
    page: PageDep,
    run_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    severity: Annotated[str | None, Query(pattern="^(error|warning)$")] = None,
) -> SyncRunDetail:
    return await lanes.read(prm_import.get_run, session, run_id=run_id, page=page, severity=severity)


@router.get("/debug/sync-logs/{run_id}/errors.xlsx", summary="A run's row errors as an Excel file",
            response_class=Response, responses={**XLSX_RESPONSE, **error_responses(404, 422)},
            dependencies=[VIEWER])
async def sync_log_errors_workbook(session: SessionDep, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    return file_response(await lanes.work(prm_import.row_errors_workbook, session, run_id=run_id))
