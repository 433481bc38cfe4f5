"""Public resource pages for youth and for parents and caregivers (PRODUCT.md C3): no
login, no cookies, no scripts, no personal data. The language is in the address
(``/help/en/...``, ``/help/es/...``), so nothing needs to be remembered about the
reader; the county's contacts come from the directory (agencies with a public number).

The words are ours, from the report's warning signs and recruitment patterns, written
short and plain (their reading level is measured in the tests and in docs/public-pages.md)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from nowrongdoor.directory.models import Agency, County

LANGUAGES = ("en", "es")
AUDIENCES = ("youth", "caregivers")


def _county(request: HttpRequest) -> County | None:
    raw = request.GET.get("county", "")
    return County.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


def _render(request: HttpRequest, lang: str, template: str, **context: object) -> HttpResponse:
    if lang not in LANGUAGES:
        raise Http404("no such language")
    other = "es" if lang == "en" else "en"
    path = request.path if request.path.startswith(f"/help/{lang}/") else f"/help/{lang}/"
    other_url = path.replace(f"/help/{lang}/", f"/help/{other}/", 1)
    if request.GET.get("county", "").isdigit():
        other_url += f"?county={int(request.GET['county'])}"
    with translation.override(lang):
        response = render(request, template, {"lang": lang, "other": other, "other_url": other_url, **context})
    response["Cache-Control"] = "public, max-age=3600"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def help_index(request: HttpRequest, lang: str = "en") -> HttpResponse:
    return _render(request, lang, "web/help_index.html", counties=County.objects.order_by("name"),
                   county=_county(request))


@require_GET
def help_page(request: HttpRequest, lang: str, audience: str) -> HttpResponse:
    if audience not in AUDIENCES:
        raise Http404("no such page")
    county = _county(request)
    contacts = (Agency.objects.filter(county=county).exclude(public_phone="").order_by("agency_type", "name")
                if county else Agency.objects.none())
    return _render(request, lang, f"web/help_{audience}.html", audience=audience, county=county,
                   counties=County.objects.order_by("name"), contacts=list(contacts))
