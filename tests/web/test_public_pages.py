"""The public resource pages: no login, no cookie, no script, both languages, the
county's public numbers only, and a reading level a young person can manage."""

from __future__ import annotations

import re
from typing import Any

import pytest
import textstat
from django.test import Client

pytestmark = pytest.mark.django_db
PAGES = ["/help/", "/help/en/", "/help/en/youth/", "/help/en/caregivers/", "/help/es/", "/help/es/youth/",
         "/help/es/caregivers/"]


def main_text(html: str) -> str:
    main = html[html.find("<main"):html.find("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_without_signing_in_and_sets_no_cookie(path: str) -> None:
    client = Client()
    response = client.get(path)
    assert response.status_code == 200
    assert not response.cookies, response.cookies
    assert "Set-Cookie" not in response.headers
    html = response.content.decode()
    assert "<script" not in html and "csrfmiddlewaretoken" not in html
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(("path", "lang", "heading"), [
    ("/help/en/youth/", "en", "Is someone using you for sex?"),
    ("/help/es/youth/", "es", "¿Alguien te está usando para el sexo?"),
    ("/help/en/caregivers/", "en", "Keeping a child safe from sex trafficking"),
    ("/help/es/caregivers/", "es", "Cómo proteger a un niño de la trata sexual"),
])
def test_the_language_is_in_the_address(path: str, lang: str, heading: str) -> None:
    html = Client().get(path, HTTP_ACCEPT_LANGUAGE="es" if lang == "en" else "en").content.decode()
    assert f'<html lang="{lang}">' in html
    assert heading in html
    other = "es" if lang == "en" else "en"
    assert f'href="{path.replace(f"/{lang}/", f"/{other}/")}"' in html


@pytest.mark.parametrize("path", ["/help/en/youth/", "/help/en/caregivers/", "/help/en/"])
def test_english_pages_read_at_a_sixth_grade_level(path: str) -> None:
    text = main_text(Client().get(path).content.decode())
    textstat.set_lang("en")
    assert textstat.lexicon_count(text) > 50
    assert textstat.flesch_kincaid_grade(text) <= 6.0, textstat.flesch_kincaid_grade(text)


def test_a_county_shows_only_its_agencies_with_a_public_number(make_agency: Any, county: Any) -> None:
    listed = make_agency("child_welfare", name="Hotline agency (synthetic)")
    listed.public_phone, listed.public_help = "(555) 0100-2222", "Report a worry about a child"
    listed.save()
    make_agency("probation", name="Unlisted probation (synthetic)")
    from nowrongdoor.directory.models import County

    elsewhere = County.objects.create(name="Elsewhere County (synthetic)")
    other = make_agency("health", in_county=elsewhere, name="Other county clinic (synthetic)")
    other.public_phone = "(555) 0100-3333"
    other.save()

    html = Client().get("/help/en/youth/", {"county": county.pk}).content.decode()
    assert "(555) 0100-2222" in html and "Report a worry about a child" in html
    assert "Unlisted probation" not in html and "(555) 0100-3333" not in html
    assert "call 911" in html
    html = Client().get("/help/en/youth/").content.decode()
    assert "(555) 0100-2222" not in html  # no county chosen: no list, only 911


def test_unknown_pages_and_writes_are_refused() -> None:
    client = Client()
    assert client.get("/help/fr/youth/").status_code == 404
    assert client.get("/help/en/buyers/").status_code == 404
    assert client.post("/help/en/youth/").status_code == 405
    assert client.get("/help/en/youth/", {"county": "1; DROP TABLE"}).status_code == 200
