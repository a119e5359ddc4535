"""Staff access over a real server: anonymous refusal on every staff route, sign-in, lockout, roles, sign-out."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import Desk
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.engine.assistant import Assistant
from tests.helpers import run_cli, serve_app, staff_client
from ui.app import create_app

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def sessions(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    made = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("staff-db")}))
    add_staff(made, "admin@cluster.example", PASSWORD, "admin")
    add_staff(made, "staff@cluster.example", PASSWORD, "staff")
    return made


@pytest.fixture(scope="module")
def server(assistant: Assistant, sessions: sessionmaker[Session]) -> Iterator[tuple[str, object]]:
    app = create_app(assistant.settings, Desk.open(assistant.settings, assistant, sessions))
    with serve_app(app) as url:
        yield url, app


def signed_in(url: str, email: str) -> httpx.Client:
    return staff_client(url, email, PASSWORD)


def route_paths(routes: list) -> list[str]:  # type: ignore[type-arg]
    """Every path of the app, included routers too (FastAPI keeps each included router as one route)."""
    found = []
    for route in routes:
        if getattr(route, "path", None):
            found.append(route.path)
        if hasattr(route, "effective_route_contexts"):
            found += [context.path for context in route.effective_route_contexts()]
    return found


def test_every_staff_route_refuses_anonymous_requests(server: tuple[str, object]) -> None:
    url, app = server
    paths = {p for p in route_paths(app.routes) if p.startswith(("/api/staff", "/staff"))}  # type: ignore[attr-defined]
    assert "/api/staff/enquiries" in paths and "/staff" in paths
    probes = [p.replace("{enquiry_id}", "1").replace("{email}", "a@b.example") for p in paths] + [
        "/staff/",
        "/staff/config",
        "/staff/gradio_api/info",
        "/staff/gradio_api/file=/etc/passwd",
        "/staff/gradio_api/queue/join",
    ]
    for path in probes:
        for method in ("GET", "POST", "DELETE"):
            response = httpx.request(method, url + path)
            assert response.status_code == 401, (method, path, response.status_code)
    page = httpx.get(url + "/staff/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_sign_in_cookie_and_sign_out(server: tuple[str, object]) -> None:
    url, _ = server
    client = signed_in(url, "staff@cluster.example")
    cookie = client.cookies.jar
    header = next(iter(cookie))
    assert header.has_nonstandard_attr("HttpOnly") and header.get_nonstandard_attr("SameSite", "").lower() == "strict"
    assert client.get("/api/staff/enquiries").status_code == 200
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/gradio_api/info").status_code == 404  # no Gradio on the staff side any more
    assert client.post("/logout").status_code == 303
    assert client.get("/api/staff/enquiries").status_code == 401


def test_lockout_after_repeated_failures(server: tuple[str, object], sessions: sessionmaker[Session]) -> None:
    url, _ = server
    add_staff(sessions, "victim@cluster.example", PASSWORD, "staff")
    for _ in range(5):  # the default login_lockout: 5 failures in 15 minutes
        bad = httpx.post(f"{url}/login", data={"email": "victim@cluster.example", "password": "wrong guess!!"})
        assert bad.status_code == 401 and "Wrong e-mail or password" in bad.text
    locked = httpx.post(f"{url}/login", data={"email": "victim@cluster.example", "password": PASSWORD})
    assert locked.status_code == 401  # the right password does not help while locked
    assert "Too many wrong attempts" in locked.text and "Wrong e-mail or password" not in locked.text
    # No hint about which accounts exist: an unknown address reads as a wrong password, and as locked after as many
    # failures (the page says nothing else, apart from the address typed, which goes back in its field).
    unknown = httpx.post(f"{url}/login", data={"email": "nobody@cluster.example", "password": PASSWORD})
    assert unknown.status_code == 401 and "Wrong e-mail or password." in unknown.text
    for _ in range(5):
        httpx.post(f"{url}/login", data={"email": "nobody@cluster.example", "password": "wrong guess!!"})
    unknown = httpx.post(f"{url}/login", data={"email": "nobody@cluster.example", "password": PASSWORD})
    assert unknown.text == locked.text.replace("victim@", "nobody@")


def test_only_admins_erase(server: tuple[str, object]) -> None:
    url, _ = server
    assert signed_in(url, "staff@cluster.example").delete("/api/staff/subjects/a@b.example").status_code == 403
    erased = signed_in(url, "admin@cluster.example").delete("/api/staff/subjects/a@b.example")
    assert erased.status_code == 200 and erased.json() == {"erased": 0}


def test_staff_cli_adds_an_account(tmp_path: Path, corpus_settings) -> None:  # type: ignore[no-untyped-def]
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path})
    command = ("staff", "add", "new@cluster.example", "--role", "admin")
    result = run_cli(settings, *command, "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0 and "new@cluster.example (admin)" in result.stdout
    no_terminal = run_cli(settings, *command, stdin="")  # no TTY and no --password-stdin: refused, with the way out
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    short = run_cli(settings, *command, "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr


def test_sharing_with_a_partner_through_the_api_needs_consent(server: tuple[str, object]) -> None:
    url, _ = server
    created = httpx.post(
        f"{url}/api/enquiries",
        json={
            "name": "Lee",
            "email": "lee@org.example",
            "message": "Put me in touch with a trust",
            "consent": True,
            "consent_version": "2026-11-25",
        },
    ).json()
    staff = signed_in(url, "staff@cluster.example")
    [found] = staff.get("/api/staff/enquiries", params={"q": created["reference"]}).json()
    created["id"] = found["id"]
    share = f"/api/staff/enquiries/{created['id']}/share/Example%20Trust"
    assert staff.post(share).status_code == 409
    consent = {"partner": "Example Trust", "how": "Reply e-mail of 25 November"}
    recording = f"/api/staff/enquiries/{created['id']}/partner-consent"
    assert staff.post(recording, json=consent).status_code == 403  # recording consent is an admin's (N16)
    assert signed_in(url, "admin@cluster.example").post(recording, json=consent).status_code == 200
    shared = staff.post(share)
    assert shared.status_code == 200 and shared.json()["email"] == "lee@org.example"
    trail = [a["what"] for a in staff.get(f"/api/staff/enquiries/{created['id']}").json()["audit"]]
    assert trail[-2:] == ["partner_consent", "shared_with_partner"]


def test_errors_keep_their_status_everywhere(server: tuple[str, object]) -> None:
    """One translation of the vocabulary at the HTTP edge: unknown is 404, a state clash 409, bad input 422."""
    url, _ = server
    staff = signed_in(url, "staff@cluster.example")
    assert staff.get("/api/staff/enquiries/999999").status_code == 404
    assert staff.post("/api/staff/enquiries/999999", json={"note": "hello"}).status_code == 404  # was a 500
    assert staff.post("/api/staff/enquiries/999999/share/Example%20Trust").status_code == 404
    created = httpx.post(
        f"{url}/api/enquiries",
        json={
            "name": "Io",
            "email": "io@org.example",
            "message": "Status test",
            "consent": True,
            "consent_version": "2026-11-25",
        },
    ).json()
    [found] = staff.get("/api/staff/enquiries", params={"q": created["reference"]}).json()
    clash = staff.post(f"/api/staff/enquiries/{found['id']}", json={"status": "waiting"})  # triaged → waiting: fine
    assert clash.status_code == 200
    assert staff.post(f"/api/staff/enquiries/{found['id']}", json={"status": "new"}).status_code == 409
    assert staff.post(f"/api/staff/enquiries/{found['id']}", json={"note": "  "}).status_code == 422
    assert staff.delete("/api/staff/subjects/io@org.example").status_code == 403  # staff, not admin
