"""The nickname table: given names and the short forms they are recorded under
(content/nicknames.yaml). A record's first name "counts as" every given name it is a
form of, so "Dee" meets "Destiny" and "Pepe" meets "José"."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from nowrongdoor.youth.names import normalise

CONTENT = Path(__file__).with_name("content") / "nicknames.yaml"


class NicknameTableInvalid(ValueError):
    pass


@dataclass(frozen=True)
class NicknameTable:
    version: int
    by_name: dict[str, tuple[str, ...]]  # given name -> its forms

    def pairs(self) -> list[tuple[str, str]]:
        """(form, given name) for every form, and (name, name) for every given name."""
        out = {(name, name) for name in self.by_name}
        out |= {(form, name) for name, forms in self.by_name.items() for form in forms}
        return sorted(out)

    def given_names(self, first: str) -> set[str]:
        """The given names a first name may stand for (itself included)."""
        name = normalise(first)
        return {name} | {given for given, forms in self.by_name.items() if name in forms}


def parse_nicknames(data: object) -> NicknameTable:
    if not isinstance(data, dict) or not isinstance(data.get("version"), int) or not isinstance(
            data.get("names"), dict):
        raise NicknameTableInvalid("expected 'version' (integer) and 'names' (given name: [forms])")
    by_name: dict[str, tuple[str, ...]] = {}
    for name, forms in data["names"].items():
        if not isinstance(forms, list) or not all(isinstance(f, str) and normalise(f) for f in forms):
            raise NicknameTableInvalid(f"names.{name}: expected a list of non-empty names")
        by_name[normalise(str(name))] = tuple(normalise(f) for f in forms)
    return NicknameTable(version=data["version"], by_name=by_name)


@cache
def nickname_table(path: Path = CONTENT) -> NicknameTable:
    return parse_nicknames(yaml.safe_load(path.read_text()))
