"""The browser's Porter stemmer (templates/static/porter.js) against whoosh's, word for word."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from whoosh.lang.porter import stem

from ..conftest import CONTENT, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PORTER_JS = ROOT / "templates" / "static" / "porter.js"
BATCH = 20000
WORD = re.compile(r"[a-z]+")
TOKEN = re.compile(r"\w+(?:'\w+)*")

# Words that exercise each step of whoosh's stemmer, its quirks included.
PORTER_STEPS = [
    # 1a: sses, ies, ss, s
    *["caresses", "ponies", "ties", "caress", "cats", "ss", "sss", "ssss", "is", "gas", "this"],
    *["kiss", "bus", "yes", "ies", "sses", "aies", "dies", "lies", "classes", "news", "its"],
    # 1b: eed (m > 0), ed and ing after a vowel, then at/bl/iz, a double consonant, cvc
    *["feed", "agreed", "eed", "need", "proceed", "exceed", "succeed", "bleed", "deed"],
    *["plastered", "bled", "motoring", "sing", "conflated", "troubled", "sized", "hopping"],
    *["tanned", "falling", "hissing", "fizzed", "failing", "filing", "ed", "ing", "red"],
    *["ated", "ating", "izing", "ized", "bling", "bled", "tting", "hoped", "hoping", "boxed"],
    *["bowed", "played", "dying", "lying", "tying", "seeing", "thing", "string", "spring"],
    # 1c: y after a vowel in the stem
    *["happy", "sky", "by", "cry", "say", "toy", "ay", "boy", "fly", "dry", "ugly", "any"],
    # 2
    *["relational", "conditional", "rational", "valenci", "hesitanci", "digitizer"],
    *["conformabli", "radicalli", "differentli", "vileli", "analogousli", "vietnamization"],
    *["predication", "operator", "feudalism", "decisiveness", "hopefulness", "callousness"],
    *["formaliti", "sensitiviti", "sensibiliti", "analogi", "logi", "tional", "ational"],
    # 3
    *["triplicate", "formative", "formalize", "electriciti", "electrical", "hopeful"],
    *["goodness", "ful", "ness", "ative", "icate"],
    # 4
    *["revival", "allowance", "inference", "airliner", "gyroscopic", "adjustable"],
    *["defensible", "irritant", "replacement", "adjustment", "dependent", "adoption"],
    *["homologou", "communism", "activate", "angulariti", "homologous", "effective"],
    *["bowdlerize", "decision", "suggestion", "fusion", "ion", "sion", "tion", "ement"],
    # 5: e after m > 1, or m == 1 and not cvc; ll after m > 1
    *["probate", "rate", "cease", "controll", "roll", "hope", "hoe", "are", "eye", "e"],
    *["call", "fall", "install", "tell", "generalizations", "oscillators", "fundamentally"],
    # a first y is a consonant
    *["y", "ys", "yy", "yyy", "yyyy", "yyyies", "yelling", "youth", "yearly", "yield"],
    *["sayings", "toying", "yttrium", "yes", "yed", "ying", "yies", "ysses", "yeed"],
    *["a", "", "ab", "abc", "aaa", "bbb", "eee", "eeed", "yeeing"],
]

# Strings no tokenizer sends, where JavaScript's and Python's regular expressions part ways.
ODD_STRINGS = [
    *["don't", "win32", "x86", "3d", "123", "o'clock", "we'll", "won't", "it's", "l'été"],
    *["café", "naïve", "résumé", "straße", "ÿes", "élevées", "ﬁnding", "\u00a0ing", "   "],
    *["😀", "😀😀", "a😀", "😀s", "𝒶s", "😀😀s", "😀😀ing", "ab😀", "hop😀s", "𝒶𝒷𝒸ed", "y😀s"],
    *["ba😀ing", "hi𝒶ed", "ta😀ed"],
    *["tested\n", "relational\n", "rate\n", "ed\n", "sing\n", "happy\n", "ated\n", "ies\n"],
    *["hopping\r", "caresses\u2028", "\n", "\n\n\n", "\nrate", "a\ned", "conditional\r\n"],
    *["a\rtested", "re\rlational", "x\u2028hopping", "con\u2029ditional", "ho\rpeful"],
    *["izing\n", "feed\n", "controll\n", "hopefulness\n", "adoption\n", "probate\n"],
    *["CARESSES", "Yellow", "YES", "yY", "Ying", "Happy", "RelaTional", "ING", "Yeed"],
]

# Pieces of random strings: letters each rule tests, suffixes, and characters JavaScript
# and Python see differently (newlines, astral code points).
PIECES = [*"aeiouyYbcdlmnrstzgwx'1\n\r\u2028é😀𝒶ß ", "ed", "ing", "s", "e", "ll", "ational"]
PIECES += ["ion", "ies", "sses", "eed", "y"]


def read_words(paths: Iterable[Path]) -> set[str]:
    """Every distinct [a-z]+ word and word-character token of the files, lowercased.

    Neither spans whitespace, so each distinct whitespace-separated chunk is scanned once.
    """
    chunks: set[str] = set()
    for path in paths:
        chunks.update(path.read_bytes().decode("cp1252", errors="replace").lower().split())
    text = "\n".join(chunks)
    return set(WORD.findall(text)) | set(TOKEN.findall(text))


def assert_stems_agree(page: Page, words: Iterable[str]) -> int:
    """Stem the words in the page and in Python; return how many were compared."""
    ordered = sorted(set(words))
    js: list[str] = []
    for start in range(0, len(ordered), BATCH):
        js += page.evaluate(
            "words => words.map(word => kbsitePorterStem(word))", ordered[start : start + BATCH]
        )
    differing = [
        f"{word!r}: porter.js {got!r}, whoosh {stem(word)!r}"
        for word, got in zip(ordered, js, strict=True)
        if got != stem(word)
    ]
    assert not differing, (
        f"{len(differing)} of {len(ordered)} words stem differently; the first 20:\n"
        + "\n".join(differing[:20])
    )
    return len(ordered)


@pytest.fixture(scope="module")
def porter_page(browser: Browser) -> Iterator[Page]:
    """A blank page with porter.js loaded."""
    page = browser.new_page()
    page.add_script_tag(path=PORTER_JS)
    yield page
    page.close()


def test_porter_js_is_a_classic_script_for_file_pages(browser: Browser, tmp_path: Path) -> None:
    html = tmp_path / "search.html"
    html.write_text(f'<!doctype html><script src="{PORTER_JS.as_uri()}"></script>')
    page = browser.new_page()
    try:
        page.goto(html.as_uri())
        assert page.evaluate("kbsitePorterStem('generalizations')") == stem("generalizations")
    finally:
        page.close()


def test_each_porter_step(porter_page: Page) -> None:
    assert_stems_agree(porter_page, PORTER_STEPS)


def test_odd_strings(porter_page: Page) -> None:
    assert_stems_agree(porter_page, ODD_STRINGS)


def test_every_word_of_the_sample(porter_page: Page) -> None:
    files = [p for p in CONTENT.rglob("*") if p.is_file()]
    assert assert_stems_agree(porter_page, read_words(files)) > 1000


@pytest.mark.corpus
def test_every_word_of_the_corpus(porter_page: Page, corpus: Path) -> None:
    articles = [p for p in corpus.rglob("*") if p.suffix.upper() == ".TXT"]
    assert len(articles) > 11000
    assert assert_stems_agree(porter_page, read_words(articles)) > 50000


def test_random_strings(porter_page: Page) -> None:
    rng = random.Random(20020508)
    strings = ["".join(rng.choices(PIECES, k=rng.randint(0, 9))) for _ in range(20000)]
    assert_stems_agree(porter_page, strings)
