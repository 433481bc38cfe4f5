"""Template filters that turn data-dictionary codes into the plain words people read."""

from __future__ import annotations

from typing import Any

from django import template

from nowrongdoor.dictionary import vocabulary

register = template.Library()


@register.filter
def code_label(code: str, code_list: str) -> str:
    """``{{ record.sex|code_label:"sex" }}`` -> "Female"."""
    return vocabulary().label(code_list, code) if code else ""


@register.filter
def detail_items(contact: Any) -> list[tuple[str, str]]:
    """A contact's details as (label, value) pairs, codes shown by their labels."""
    v = vocabulary()
    spec = {f.name: f for f in v.contact_type(contact.contact_type).fields}
    items = []
    for name, value in contact.details.items():
        field = spec.get(name)
        values = value if isinstance(value, list) else [value]
        if field is not None and field.code_list:
            values = [v.label(field.code_list, str(x)) for x in values]
        items.append((name.replace("_", " ").capitalize(), ", ".join(str(x) for x in values)))
    return items


BASIS_LABELS = {
    "own_agency": "own agency",
    "agreement": "sharing agreement",
    "agreement_and_consent": "agreement + consent",
    "break_glass": "emergency access",
    "mdt_team": "MDT member (sharing window)",
}


@register.filter
def category_label(code: str) -> str:
    return vocabulary().data_categories.get(code, code) if code else ""


@register.filter
def purpose_label(code: str) -> str:
    return vocabulary().purposes.get(code, code) if code else ""


@register.filter
def basis_label(code: str) -> str:
    return BASIS_LABELS.get(code, code)


@register.filter
def level_label(level: str) -> str:
    """A screening's concern level in plain words (translated)."""
    from django.utils.translation import gettext

    labels = {
        "no_concern": gettext("No concern found"),
        "at_risk": gettext("At risk"),
        "possible_exploitation": gettext("Possible exploitation"),
        "clear_indicators": gettext("Clear indicators of exploitation"),
    }
    return labels.get(level, level)


@register.filter
def role_label(code: str) -> str:
    return str(vocabulary().roles.get(code, code))


@register.filter
def task_status(status: str) -> str:
    """A task's status in plain words (translated)."""
    from django.utils.translation import gettext

    labels = {"open": gettext("Open"), "done": gettext("Done"), "waived": gettext("Waived"),
              "cancelled": gettext("Cancelled by a later event")}
    return labels.get(status, status)


@register.simple_tag
def task_title(task: Any, lang: str) -> str:
    title: dict[str, str] = task.title
    return title.get(lang) or title.get("en") or str(task.kind)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """``mapping|get_item:key`` (dict lookup by a variable key)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def split(text: str) -> list[str]:
    return text.split()
