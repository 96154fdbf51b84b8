import re

import pytest
from fastapi.testclient import TestClient

OTHER_HOST = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_a_docs_page_names_no_other_host_and_forbids_the_browser_to_use_one(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert OTHER_HOST.search(response.text) is None
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"])
def test_the_docs_assets_are_served_by_the_service_itself(client: TestClient, asset: str) -> None:
    response = client.get(f"/static-offline-docs/{asset}")

    assert response.status_code == 200
    assert len(response.content) > 1000
