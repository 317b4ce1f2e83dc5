""" "Did you mean": respell query words that no article contains.

The word list (every lowercase word of three or more letters, with how many
articles hold it) is written beside the index at each build. A misspelt word is
replaced by the most common listed word within two edits of it that starts with
the same letter.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from kbsite.search import analysis
from kbsite.search.query import Node, Query, Text

WORDS_FILE = "words.txt"
WORD = re.compile(f"[{analysis.LETTERS}]{{3,}}")
MAX_EDITS = 2


def article_words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(text)}


def write_words(index_dir: Path, counts: Counter[str]) -> None:
    temporary = index_dir / (WORDS_FILE + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        for word in sorted(counts):
            out.write(f"{word}\t{counts[word]}\n")
    temporary.replace(index_dir / WORDS_FILE)


class Speller:
    def __init__(self, index_dir: Path) -> None:
        self.counts: dict[str, int] = {}
        try:
            lines = (index_dir / WORDS_FILE).read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        for line in lines:
            word, _, count = line.partition("\t")
            if count.isdigit():
                self.counts[word] = int(count)

    def correct(self, word: str) -> str | None:
        """The likeliest intended word, or None when ``word`` is known or nothing is close."""
        lowered = word.lower()
        if not self.counts or lowered in self.counts or not WORD.fullmatch(lowered):
            return None
        best: tuple[int, int, str] | None = None
        for candidate, count in self.counts.items():
            if candidate[0] != lowered[0] or abs(len(candidate) - len(lowered)) > MAX_EDITS:
                continue
            distance = edit_distance(lowered, candidate, MAX_EDITS)
            if distance <= MAX_EDITS:
                key = (distance, -count, candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best else None

    def respell(self, query: Query) -> str | None:
        """The query with its unknown words corrected, or None when nothing changed."""
        text = query.text
        changed = False
        for word in _plain_words(query.root):
            correction = self.correct(word)
            if correction is not None:
                text = re.sub(rf"(?<![\w-]){re.escape(word)}(?!\w)", correction, text, count=1)
                changed = True
        return text if changed else None


def _plain_words(node: Node) -> list[str]:
    if isinstance(node, Text):
        if node.kind == "prefix" or node.field not in (None, "title", "body", "headings"):
            return []
        return WORD.findall(node.text)
    children = getattr(node, "children", None)
    if children is not None:
        return [word for child in children for word in _plain_words(child)]
    return []


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
