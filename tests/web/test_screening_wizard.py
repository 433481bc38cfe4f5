"""The screening wizard: plain forms without JavaScript, in-place steps with HTMX, and a
stale page never overwrites a newer save."""

from __future__ import annotations

from typing import Any

import pytest

from nowrongdoor.screening.instruments import for_agency_type
from nowrongdoor.screening.models import Screening


@pytest.fixture
def draft(client: Any, make_agency: Any, make_user: Any, make_record: Any) -> dict[str, Any]:
    screener = make_user("screener", make_agency("probation"))
    record = make_record(screener)
    client.force_login(screener)
    instrument = for_agency_type("probation")[0]
    page = client.post(f"/youth/{record.youth.public_id}/screen/", {"instrument": instrument.id, "form": "short"})
    assert page.status_code == 302
    screening = Screening.objects.get(youth=record.youth)
    by_domain: dict[str, list[Any]] = {}
    for item in instrument.form_items("short"):
        by_domain.setdefault(item.domain, []).append(item)
    return {"url": f"/screenings/{screening.public_id}/", "screening": screening, "steps": list(by_domain.values()),
            "youth": record.youth}


def answers_for(items: list[Any]) -> dict[str, str]:
    return {f"answer_{i.id}": ("0" if i.answer == "count" else "unknown") for i in items}


def post_step(client: Any, draft: dict[str, Any], index: int, action: str, **headers: str) -> Any:
    version = Screening.objects.get(pk=draft["screening"].pk).version
    data = {"version": str(version), "step": str(index), "action": action, **answers_for(draft["steps"][index])}
    return client.post(draft["url"], data, **headers)


def test_without_javascript_each_step_saves_and_redirects_to_the_next(client: Any, draft: dict[str, Any]) -> None:
    response = post_step(client, draft, 0, "next")
    assert response.status_code == 302
    assert response["Location"] == f"{draft['url']}?step=1"
    saved = Screening.objects.get(pk=draft["screening"].pk)
    assert set(saved.answers) >= {i.id for i in draft["steps"][0]}
    page = client.get(response["Location"])
    assert "<html" in page.content.decode()


def test_with_htmx_the_next_part_replaces_the_wizard_and_the_address_follows(
    client: Any, draft: dict[str, Any]
) -> None:
    response = post_step(client, draft, 0, "next", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="wizard">')
    assert response["HX-Push-Url"] == f"{draft['url']}?step=1"
    assert 'name="step" value="1"' in body
    version = Screening.objects.get(pk=draft["screening"].pk).version
    assert f'name="version" value="{version}"' in body  # the next save is not stale


def test_with_htmx_back_fetches_only_the_wizard(client: Any, draft: dict[str, Any]) -> None:
    response = client.get(f"{draft['url']}?step=0", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    full = client.get(f"{draft['url']}?step=0")
    assert "<html" in full.content.decode()


def test_with_htmx_finishing_navigates_the_whole_page_to_the_result(client: Any, draft: dict[str, Any]) -> None:
    for index in range(len(draft["steps"]) - 1):
        post_step(client, draft, index, "next", HTTP_HX_REQUEST="true")
    last = len(draft["steps"]) - 1
    response = post_step(client, draft, last, "complete", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"{draft['url']}result/"
    assert Screening.objects.get(pk=draft["screening"].pk).status == Screening.COMPLETED
    result = client.get(response["HX-Redirect"])
    assert result.status_code == 200


def test_stopping_returns_to_the_youth_with_the_draft_kept(client: Any, draft: dict[str, Any]) -> None:
    response = post_step(client, draft, 0, "stop", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/youth/{draft['youth'].public_id}/"
    assert Screening.objects.get(pk=draft["screening"].pk).status == Screening.DRAFT


def test_a_stale_page_is_refused_and_saves_nothing(client: Any, draft: dict[str, Any]) -> None:
    version = Screening.objects.get(pk=draft["screening"].pk).version
    post_step(client, draft, 0, "next")
    first = {i.id: "yes" for i in draft["steps"][0] if i.answer != "count"}
    stale = {"version": str(version), "step": "0", "action": "next",
             **{f"answer_{k}": v for k, v in first.items()}}
    response = client.post(draft["url"], stale)
    assert response.status_code == 409
    saved = Screening.objects.get(pk=draft["screening"].pk).answers
    assert all(saved[k] != "yes" for k in first)


def test_a_wrong_answer_names_the_item_and_keeps_the_step(client: Any, draft: dict[str, Any]) -> None:
    items = draft["steps"][0]
    bad = next(i for i in items if i.answer != "count")
    version = Screening.objects.get(pk=draft["screening"].pk).version
    response = client.post(draft["url"], {"version": str(version), "step": "0", "action": "next",
                                          f"answer_{bad.id}": "perhaps"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert bad.id in body
    assert "HX-Push-Url" not in response
    assert bad.id not in Screening.objects.get(pk=draft["screening"].pk).answers


def test_notes_written_on_the_last_part_come_back_and_are_not_wiped_by_the_next_save(
    client: Any, draft: dict[str, Any]
) -> None:
    last = len(draft["steps"]) - 1
    version = Screening.objects.get(pk=draft["screening"].pk).version
    client.post(draft["url"], {"version": str(version), "step": str(last), "action": "stop",
                               "notes": "Synthetic note: youth asked to continue tomorrow."})
    page = client.get(f"{draft['url']}?step={last}").content.decode()
    assert "Synthetic note: youth asked to continue tomorrow." in page
