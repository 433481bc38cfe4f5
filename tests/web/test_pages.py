"""The web pages render for each role, in English and Spanish, and only through selectors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "nowrongdoor"


def test_views_and_api_never_import_youth_models():
    """ARCHITECTURE rule 1: handlers reach youth data only through selectors and services."""
    for module in [SRC / "web" / "views.py", SRC / "api.py"]:
        tree = ast.parse(module.read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        }
        assert "nowrongdoor.youth.models" not in imported, module
        assert "nowrongdoor.synth.models" not in imported, module


@pytest.fixture
def screener_with_youth(make_agency, make_user, make_record, make_contact):
    probation = make_agency("probation")
    screener = make_user("screener", probation)
    record = make_record(screener)
    make_contact(screener, record, "probation_intake")
    return screener, record


def test_screener_pages_render(client, screener_with_youth):
    screener, record = screener_with_youth
    client.force_login(screener)
    assert client.get("/").status_code == 200
    page = client.get("/youth/", {"q": record.last_name})
    assert page.status_code == 200
    assert record.first_name in page.content.decode()
    detail = client.get(f"/youth/{record.youth.public_id}/")
    assert detail.status_code == 200
    assert "Probation intake" in detail.content.decode()


def test_htmx_search_returns_only_the_results_fragment(client, screener_with_youth):
    screener, record = screener_with_youth
    client.force_login(screener)
    page = client.get("/youth/", {"q": record.last_name}, HTTP_HX_REQUEST="true")
    body = page.content.decode()
    assert record.first_name in body
    assert "<html" not in body


def test_unknown_youth_page_is_a_plain_404(client, screener_with_youth):
    screener, _ = screener_with_youth
    client.force_login(screener)
    page = client.get("/youth/00000000-0000-4000-8000-000000000000/")
    assert page.status_code == 404
    assert "Not found" in page.content.decode()


def test_pages_need_sign_in(client):
    assert client.get("/youth/").status_code == 302
    assert client.get("/audit/").status_code == 302


def test_spanish_interface(client, screener_with_youth):
    screener, _ = screener_with_youth
    client.force_login(screener)
    client.cookies["django_language"] = "es"
    page = client.get("/youth/")
    body = page.content.decode()
    assert 'lang="es"' in body
    assert "Buscar a un joven" in body


def test_audit_page_is_for_administrators_only(client, make_agency, make_user):
    agency = make_agency("probation")
    client.force_login(make_user("screener", agency))
    assert client.get("/audit/").status_code == 403
    client.force_login(make_user("agency_admin", agency))
    assert client.get("/audit/").status_code == 200


def test_every_response_carries_a_content_security_policy(client, make_agency, make_user):
    client.force_login(make_user("screener", make_agency("probation")))
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_api_docs_use_no_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    body = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "cdn" not in body.lower()
