"""Typo tolerance: a query word the archive does not know, or knows far less than a
close neighbour, is corrected or expanded to the archive's nearby words.

The vocabulary is every word of three or more letters in an article's title, headings
and body, with how many articles hold it: ``words.txt`` beside the whoosh index for
``kbsite search``, and for the browser the same counts in shards under ``search/v/``
(``webindex.py``), one per first letter and length, so a word loads only the few
shards its neighbours can be in. ``search-engine.js`` ports ``decide`` and the rules here.

A word whose term no article holds is *corrected* to its nearest neighbour (fewest
edits, then most articles); a known word held by at most ``RARE`` articles is
*expanded* to a neighbour one edit away that ``NEIGHBOUR_FACTOR`` times as many
articles hold, which then also matches, at ``EXPANSION_WEIGHT``. Neighbours share the
word's first letter (people rarely slip on it, and the shards rely on it).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

from kbsite.search import analysis

WORDS_FILE = "words.txt"
WORD = re.compile(f"[{analysis.LETTERS}]{{3,}}")
RARE = 3
NEIGHBOUR_FACTOR = 20
EXPANSION_WEIGHT = 0.5
LONGEST_KEY = 20
"""Words this long or longer share their letter's last shard."""
SHARD_LETTERS = "abcdefghijklmnopqrstuvwxyz0"


@dataclasses.dataclass(frozen=True, slots=True)
class Correction:
    word: str
    """The word as the query has it, lowercased."""
    replacement: str
    expanded: bool
    """True: the word is kept and the replacement also matches ("did you mean");
    False: the word matches nothing and the replacement stands in for it."""


def article_words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(text)}


def document_words(document: dict[str, str]) -> list[str]:
    """An indexed document's vocabulary words (``index.index_document``), sorted."""
    text = " ".join((document["title"], document["headings"], document["body"]))
    return sorted(article_words(text))


def write_words(index_dir: Path, counts: dict[str, int]) -> None:
    temporary = index_dir / (WORDS_FILE + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        for word in sorted(counts):
            out.write(f"{word}\t{counts[word]}\n")
    temporary.replace(index_dir / WORDS_FILE)


def max_edits(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def shard_key(word: str) -> str:
    """The vocabulary shard a word lives in: its first letter and its length."""
    first = word[0] if "a" <= word[0] <= "z" else "0"
    return f"{first}{min(len(word), LONGEST_KEY)}"


def all_shard_keys() -> list[str]:
    return [f"{first}{n}" for first in SHARD_LETTERS for n in range(3, LONGEST_KEY + 1)]


def neighbour_keys(word: str) -> list[str]:
    """The shards that can hold ``word``'s neighbours (sorted, each once)."""
    edits = max_edits(word)
    lengths = range(max(3, len(word) - edits), len(word) + edits + 1)
    return sorted({shard_key(word[0] + "x" * (n - 1)) for n in lengths})


def wants_checking(word: str, frequency: int) -> bool:
    """Whether a query word may be corrected: a plain word, held by few articles."""
    return frequency <= RARE and max_edits(word) > 0 and WORD.fullmatch(word) is not None


def decide(word: str, frequency: int, candidates: dict[str, int]) -> Correction | None:
    """The correction of ``word`` (lowercased; its term is held by ``frequency``
    articles) among ``candidates`` (the vocabulary of its neighbour shards)."""
    edits = max_edits(word)
    known = max(candidates.get(word, 0), frequency)
    best: tuple[int, int, str] | None = None
    for candidate, count in candidates.items():
        if (
            candidate == word
            or candidate[0] != word[0]
            or abs(len(candidate) - len(word)) > edits
            or candidate in analysis.STOP_WORDS
            or (frequency and count < NEIGHBOUR_FACTOR * max(known, 1))
        ):
            continue
        distance = edit_distance(word, candidate, 1 if frequency else edits)
        if distance > (1 if frequency else edits) or analysis.stem(candidate) == analysis.stem(
            word
        ):
            continue
        key = (distance, -count, candidate)
        if best is None or key < best:
            best = key
    return Correction(word, best[2], frequency > 0) if best else None


class Vocabulary:
    """``words.txt``, read once, by shard."""

    def __init__(self, index_dir: Path) -> None:
        self.shards: dict[str, dict[str, int]] = {}
        try:
            lines = (index_dir / WORDS_FILE).read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        for line in lines:
            word, _, count = line.partition("\t")
            if count.isdigit():
                self.shards.setdefault(shard_key(word), {})[word] = int(count)

    def near(self, word: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for key in neighbour_keys(word):
            found.update(self.shards.get(key, {}))
        return found


def respelled(text: str, corrections: Iterable[Correction], quote: bool = False) -> str:
    """``text`` with each corrected word replaced (or, ``quote``, the word kept in quotes
    so it is searched for as written)."""
    for correction in corrections:
        pattern = rf"(?<![\w\"-]){re.escape(correction.word)}(?![\w\"])"
        new = f'"{correction.word}"' if quote else correction.replacement
        text = re.sub(pattern, new.replace("\\", "\\\\"), text, count=1, flags=re.IGNORECASE)
    return text


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up (returning limit + 1) past ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = char_a != char_b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
