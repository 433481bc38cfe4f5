"""Readability of the public resource pages (issue 9 target: a 6th-grade reading level).

    .venv/bin/python benchmarks/public_readability.py

Renders every public page in English and Spanish (a throwaway SQLite database with one
synthetic county), takes the text of the page's main part, and prints textstat's scores:
Flesch-Kincaid grade and Flesch reading ease for English, and the Fernández-Huerta and
Szigriszt-Pazos (perspicuity) scores for Spanish. The test suite holds English to grade 6.
"""

from __future__ import annotations

import re

from _setup import configure


def main_text(html: str) -> str:
    main = html[html.find("<main"):html.find("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def main() -> None:
    configure(None)
    import textstat
    from django.test import Client

    from nowrongdoor.synth.generator import ensure_directory

    counties, _, _ = ensure_directory(1)
    client = Client(HTTP_HOST="localhost")
    print(f"{'page':<28} {'words':>5}  scores")
    for lang in ("en", "es"):
        textstat.set_lang(lang)
        for page in ("", "youth/", "caregivers/"):
            text = main_text(client.get(f"/help/{lang}/{page}?county={counties[0].pk}").content.decode())
            words = textstat.lexicon_count(text)
            if lang == "en":
                scores = (f"Flesch-Kincaid grade {textstat.flesch_kincaid_grade(text):.1f}, "
                          f"reading ease {textstat.flesch_reading_ease(text):.0f}")
            else:
                scores = (f"Fernández-Huerta {textstat.fernandez_huerta(text):.0f}, "
                          f"Szigriszt-Pazos {textstat.szigriszt_pazos(text):.0f}")
            print(f"/help/{lang}/{page:<20} {words:>5}  {scores}")


if __name__ == "__main__":
    main()
