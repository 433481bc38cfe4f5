"""The screening wizard: choose the instrument, one domain per step, then the result.

Plain forms that work without JavaScript; with it, HTMX swaps one part for the next
without reloading the page. Each step saves the draft (with the version the page was
rendered from), so a worker can stop and continue in a later session.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from nowrongdoor.errors import ValidationFailed
from nowrongdoor.screening import selectors, services
from nowrongdoor.screening.engine import Instrument, Item
from nowrongdoor.screening.instruments import instruments
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import language as _lang
from nowrongdoor.youth.selectors import visible_youth


def _steps(instrument: Instrument, form: str) -> list[tuple[str, list[Item]]]:
    """Items of the form grouped by domain, in the order the form lists them."""
    steps: dict[str, list[Item]] = {}
    for item in instrument.form_items(form):
        steps.setdefault(item.domain, []).append(item)
    return list(steps.items())


@login_required
def start(request: HttpRequest, youth_id: UUID) -> HttpResponse:
    actor = _actor(request)
    visible_youth(actor=actor, public_id=str(youth_id), purpose="screening")
    choices = services.instruments_offered(actor)
    if request.method == "POST":
        screening = services.start_screening(
            actor=actor, youth_public_id=str(youth_id), instrument_id=request.POST.get("instrument", ""),
            form=request.POST.get("form", ""),
        )
        return redirect("web:screening_step", screening_id=screening.public_id)
    from nowrongdoor.training.catalogue import catalogue
    from nowrongdoor.training.selectors import screening_notice

    notice = screening_notice(actor)
    lapsed = [(catalogue().courses[c.course].title.get(_lang(), c.course), c) for c in notice.lapsed] if notice else []
    return render(request, "web/screening_start.html", {"youth_id": youth_id, "choices": choices, "lang": _lang(),
                                                        "notice": notice, "lapsed": lapsed,
                                                        "default_form": services.default_form(actor)})


def _parse(item: Item, raw: str) -> Any:
    if item.answer == "count" and raw not in ("", "unknown"):
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


@login_required
def step(request: HttpRequest, screening_id: UUID) -> HttpResponse:
    """One domain of the draft. Without JavaScript every save redirects (post/redirect/get);
    with HTMX the next part replaces the wizard in place and the address follows it."""
    actor = _actor(request)
    view = selectors.get_screening(actor=actor, public_id=str(screening_id))
    if view.status == "completed":
        return _go(request, reverse("web:screening_result", kwargs={"screening_id": screening_id}))
    instrument = instruments()[view.instrument_id]
    steps = _steps(instrument, view.form)
    index = max(0, min(int(request.GET.get("step", "0") or 0), len(steps) - 1))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        index = max(0, min(int(request.POST.get("step", "0") or 0), len(steps) - 1))
        _domain, items = steps[index]
        answers = {i.id: _parse(i, request.POST[f"answer_{i.id}"]) for i in items if request.POST.get(f"answer_{i.id}")}
        action = request.POST.get("action")
        try:
            saved = services.save_answers(
                actor=actor, screening_public_id=str(screening_id), expected_version=int(request.POST["version"]),
                answers=answers, notes=request.POST.get("notes") if "notes" in request.POST else None,
            )
            if action == "complete":
                services.complete_screening(actor=actor, screening_public_id=str(screening_id),
                                            expected_version=saved.version)
                return _go(request, reverse("web:screening_result", kwargs={"screening_id": screening_id}))
        except ValidationFailed as exc:
            errors = exc.errors
            view = selectors.get_screening(actor=actor, public_id=str(screening_id))
        else:
            if action == "stop":
                messages.info(request, _("Saved. You can continue this screening later from the youth's page."))
                return _go(request, reverse("web:youth_detail", kwargs={"youth_id": view.youth_id}))
            index = min(index + 1, len(steps) - 1) if action == "next" else index
            if not _htmx(request):
                return redirect(f"{request.path}?step={index}")
            view = selectors.written_view(actor, saved)
    response = _render_step(request, view, instrument, steps, index, errors)
    if _htmx(request) and request.method == "POST" and not errors:
        response["HX-Push-Url"] = f"{request.path}?step={index}"
    return response


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Leave the wizard: a redirect, or for HTMX a full-page navigation to ``url``."""
    return HttpResponseClientRedirect(url) if _htmx(request) else redirect(url)


def _render_step(
    request: HttpRequest, view: selectors.ScreeningView, instrument: Instrument,
    steps: list[tuple[str, list[Item]]], index: int, errors: dict[str, list[str]],
) -> HttpResponse:
    domain, items = steps[index]
    lang = _lang()
    template = "web/_screening_wizard.html" if _htmx(request) else "web/screening_step.html"
    return render(request, template, {
        "screening": view, "instrument": instrument, "lang": lang,
        "title": instrument.title.get(lang, ""), "introduction": instrument.introduction.get(lang, ""),
        "domain": instrument.domains[domain], "domain_title": instrument.domains[domain]["title"][lang],
        "open_questions": instrument.domains[domain]["open_questions"][lang],
        "avoid": instrument.domains[domain]["avoid"][lang],
        "items": [_item_context(i, view.answers.get(i.id), lang, view.known.get(i.id)) for i in items],
        "index": index, "count": len(steps), "last": index == len(steps) - 1, "errors": errors,
    })


def _item_context(item: Item, current: Any, lang: str, known: dict[str, Any] | None) -> dict[str, Any]:
    if item.answer == "yes_no_unknown":
        options = [("yes", _("Yes")), ("no", _("No")), ("unknown", _("Don't know / not asked"))]
    elif item.answer == "rating":
        options = [("no_concern", _("No concern")), ("possible_concern", _("Possible concern")),
                   ("clear_concern", _("Clear concern")), ("no_information", _("No information"))]
    elif item.answer == "choice":
        options = [(o, item.option_texts[o][lang]) for o in item.options] + [("unknown", _("Don't know"))]
    else:
        options = []
    return {"id": item.id, "text": item.text.get(lang, ""), "help": item.help.get(lang, ""),
            "answer": item.answer, "options": options, "current": "" if current is None else str(current),
            "known": known}


@login_required
def result(request: HttpRequest, screening_id: UUID) -> HttpResponse:
    actor = _actor(request)
    view = selectors.get_screening(actor=actor, public_id=str(screening_id))
    if view.status != "completed" or view.result is None:
        return redirect("web:screening_step", screening_id=screening_id)
    instrument = instruments().get(view.instrument_id)
    lang = _lang()

    def text(item_id: str) -> str:
        item = instrument.items.get(item_id) if instrument else None
        return item.text.get(lang, item_id) if item else item_id

    steps = instrument.next_steps if instrument else {}
    return render(request, "web/screening_result.html", {
        "screening": view, "result": view.result, "level": view.level,
        "drivers": [text(i) for i in view.result["drivers"]],
        "missing": [text(i) for i in view.result["missing"]],
        "safety": [text(i) for i in view.result["safety_items"]],
        "next_steps": steps.get(view.level, {}).get(lang, []),
        "safety_steps": steps.get("immediate_safety", {}).get(lang, []) if view.immediate_safety else [],
    })


@login_required
@require_POST
def correct(request: HttpRequest, screening_id: UUID) -> HttpResponse:
    new = services.correct_screening(actor=_actor(request), screening_public_id=str(screening_id))
    return redirect("web:screening_step", screening_id=new.public_id)
