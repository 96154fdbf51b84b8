from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from main import create_app
from settings import APP_VERSION


class TestRoot:
    def test_root_names_the_service_and_links_its_docs(self, client: TestClient) -> None:
        response = client.get("/")

        assert response.status_code == 200
        assert response.json() == {
            "name": "Distribution Backend API", "version": APP_VERSION,
            "docs": "/docs", "redoc": "/redoc", "health": "/health", "ui": "/ui/",
        }

    def test_swagger_and_redoc_are_served(self, client: TestClient) -> None:
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200
        assert client.get("/openapi.json").json()["info"]["title"] == "Distribution Backend API"

    def test_every_answer_carries_a_request_id(self, client: TestClient) -> None:
        response = client.get("/")

        assert len(response.headers["x-request-id"]) == 12


class TestHealth:
    def test_health_is_ok_when_the_database_answers(self, client: TestClient) -> None:
        response = client.get("/health")

        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.json()["database"] == "ok"
        assert response.json()["version"] == APP_VERSION

    def test_health_is_503_when_the_database_is_unreachable(self, client: TestClient, tmp_path) -> None:
        # The database vanishes after start-up: a directory that does not exist cannot hold it.
        client.app.state.engine = create_engine(f"sqlite:///{tmp_path}/no/such/dir/app.db")

        response = client.get("/health")

        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
        assert response.json()["status"] == "degraded"


class TestErrorShape:
    def test_an_unknown_path_answers_404_in_the_error_shape(self, client: TestClient) -> None:
        response = client.get("/no-such-thing")

        assert response.status_code == 404
        assert response.json() == {
            "detail": "There is no endpoint at /no-such-thing; see /docs for the list.", "errors": [],
        }

    def test_a_wrong_method_answers_405_in_the_error_shape(self, client: TestClient) -> None:
        response = client.delete("/health")

        assert response.status_code == 405
        assert response.json() == {
            "detail": "DELETE is not allowed on /health; see /docs for the allowed methods.", "errors": [],
        }

    def test_an_unexpected_exception_answers_500_with_the_request_id(self, settings) -> None:
        app = create_app(settings)

        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("kaboom")

        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/boom")

        request_id = response.headers["x-request-id"]
        assert response.status_code == 500
        assert response.json() == {"detail": f"Internal server error (request id {request_id}).", "errors": [], "request_id": request_id}
