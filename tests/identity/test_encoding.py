"""Privacy-preserving encodings: deterministic for a key, useless without it (another key
links nothing), a day/month swap still agrees, and name filters keep names that are close
close and names that differ apart. Names come from the synthetic generator."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowrongdoor.identity.encoding import (
    BLOOM_BITS,
    KeyTooShort,
    bigrams,
    bloom,
    dice,
    encode,
    swap_token,
    token,
)
from nowrongdoor.synth.generator import plan_person
from nowrongdoor.synth.names import GIRLS, SURNAMES

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def names_filter(key: bytes, *names: str) -> int:
    return bloom(key, (g for n in names for g in bigrams(n.lower())))


def test_tokens_are_deterministic_for_a_key_and_differ_under_another_key() -> None:
    plan = plan_person(3, 1)
    record = plan.records[0]
    first = encode(KEY, record_id="a", first_name=record.first_name, last_name=record.last_name,
                   aliases=record.aliases, birth_date=plan.birth_date, sex=plan.sex)
    again = encode(KEY, record_id="a", first_name=record.first_name.upper(), last_name=f" {record.last_name} ",
                   aliases=list(reversed(record.aliases)), birth_date=plan.birth_date, sex=plan.sex)
    assert first == again  # normalised: case, spaces and alias order do not matter
    other = encode(OTHER_KEY, record_id="a", first_name=record.first_name, last_name=record.last_name,
                   aliases=record.aliases, birth_date=plan.birth_date, sex=plan.sex)
    for name in ("first_name", "last_name", "dob", "dob_year", "dob_swap", "sex", "names_bloom"):
        assert getattr(first, name) != getattr(other, name), name
    assert record.first_name.lower() not in repr(first).lower()
    assert plan.birth_date.isoformat() not in repr(first)


def test_another_key_links_nothing() -> None:
    """Encodings made under different keys agree no more than chance."""
    people = [plan_person(5, i) for i in range(60)]
    ours = [encode(KEY, record_id=str(i), first_name=p.records[0].first_name, last_name=p.records[0].last_name,
                   birth_date=p.birth_date) for i, p in enumerate(people)]
    theirs = [encode(OTHER_KEY, record_id=str(i), first_name=p.records[0].first_name,
                     last_name=p.records[0].last_name, birth_date=p.birth_date) for i, p in enumerate(people)]
    assert not {(o.first_name, o.dob) for o in ours} & {(t.first_name, t.dob) for t in theirs}
    same_person = [dice(int(o.names_bloom, 16), int(t.names_bloom, 16)) for o, t in zip(ours, theirs, strict=True)]
    assert max(same_person) < 0.7  # what a random pair of filters looks like, not a match (~0.9+)


def test_a_day_month_swap_shares_the_swap_token_but_not_the_date_token() -> None:
    date, swapped = dt.date(2012, 3, 4), dt.date(2012, 4, 3)
    assert swap_token(KEY, date) == swap_token(KEY, swapped)
    assert token(KEY, "dob", date.isoformat()) != token(KEY, "dob", swapped.isoformat())
    assert swap_token(KEY, date) != swap_token(KEY, dt.date(2013, 3, 4))


def test_name_filters_keep_close_names_close_and_different_names_apart() -> None:
    close = dice(names_filter(KEY, "destiny"), names_filter(KEY, "destinee"))
    apart = dice(names_filter(KEY, "destiny"), names_filter(KEY, "maria"))
    assert close > 0.6 and apart < 0.3
    assert dice(names_filter(KEY, "destiny", "smith"), names_filter(KEY, "destiny", "smith")) == 1.0


@settings(max_examples=60, deadline=None)
@given(a=st.sampled_from(GIRLS), b=st.sampled_from(SURNAMES))
def test_the_filter_dice_follows_the_bigram_dice(a: str, b: str) -> None:
    """Bloom-filter Dice approximates the Dice of the bigram sets (the published property),
    biased upwards by bit collisions: with 1,024 bits and 20 hashes a short name sets ~150
    bits, so two unrelated names share ~15 % of them by chance."""
    ga, gb = set(bigrams(a.lower())), set(bigrams(b.lower()))
    exact = 2 * len(ga & gb) / (len(ga) + len(gb))
    approx = dice(names_filter(KEY, a.lower()), names_filter(KEY, b.lower()))
    assert -0.05 < approx - exact < 0.25


def test_empty_values_give_empty_tokens_and_keys_must_be_long() -> None:
    assert token(KEY, "first_name", "") == ""
    record = encode(KEY, record_id="x", first_name="", last_name="Doe")
    assert record.dob == record.dob_swap == record.sex == "" and len(record.names_bloom) == BLOOM_BITS // 4
    with pytest.raises(KeyTooShort):
        token(b"short", "first_name", "ana")
    assert len(token(secrets.token_bytes(32), "first_name", "ana")) == 26  # 128 bits in base32
