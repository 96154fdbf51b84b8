"""The API docs pages, Swagger UI at /docs and ReDoc at /redoc, from files inside fastapi-offline.

Office LANs are often offline or filtered, so no page may load anything from another host.
"""

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
STATIC = "/static-offline-docs"  # where FastAPIOffline mounts its copies of the two bundles
# The browser itself refuses other hosts: ReDoc's footer logo would otherwise come from a CDN.
SAME_HOST_ONLY = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                  "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; worker-src 'self' blob:"}


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} - Swagger UI",
                               swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
                               swagger_css_url=f"{STATIC}/swagger-ui.css",
                               swagger_favicon_url=f"{STATIC}/favicon.png",
                               swagger_ui_parameters={"persistAuthorization": True})
    page.headers.update(SAME_HOST_ONLY)
    return page


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} - ReDoc",
                          redoc_js_url=f"{STATIC}/redoc.standalone.js", redoc_favicon_url=f"{STATIC}/favicon.png",
                          with_google_fonts=False)
    page.headers.update(SAME_HOST_ONLY)
    return page
