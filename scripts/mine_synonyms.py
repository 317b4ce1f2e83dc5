#!/usr/bin/env python3
"""List candidate short forms for ``src/kbsite/search/synonyms.txt`` from an archive.

usage: python scripts/mine_synonyms.py [SOURCE] [--min N]

Each title prefix (``WD97:``, ``XL97:``, ``XADM:``) is paired with the PRODUCT line and
the first applies-to line most common among the articles bearing it, so a person can
read off what it stands for (``wd97 = word 97``). It prints; it writes nothing: the table
keeps names and abbreviations only, edited by hand.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kbsite.read.source import read_source  # noqa: E402

PREFIX = re.compile(r"^TITLE\s*:\s*([A-Z][A-Z0-9]{1,7})\s*:", re.MULTILINE)
PRODUCT = re.compile(r"^PRODUCT\s*:(.*)$", re.MULTILINE)
APPLIES = re.compile(r"applies to:\s*\n\s*\n?\s*-\s*(.+)", re.IGNORECASE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", nargs="?", type=Path, default=ROOT.parent / "shared/kb-corpus/txt"
    )
    parser.add_argument("--min", type=int, default=3, help="prefixes on at least N titles")
    args = parser.parse_args()
    products: dict[str, Counter[str]] = defaultdict(Counter)
    applies: dict[str, Counter[str]] = defaultdict(Counter)
    for path in sorted(args.source.rglob("*")):
        if path.suffix.upper() != ".TXT":
            continue
        text = read_source(path).text
        prefix = PREFIX.search(text)
        if prefix is None:
            continue
        name = prefix.group(1).lower()
        if product := PRODUCT.search(text):
            products[name][" ".join(product.group(1).split())] += 1
        if line := APPLIES.search(text):
            applies[name][" ".join(line.group(1).split())[:70]] += 1
    for name, counts in sorted(products.items(), key=lambda item: -item[1].total()):
        if counts.total() < args.min:
            continue
        product = counts.most_common(1)[0][0]
        applied = applies[name].most_common(1)[0][0] if applies[name] else ""
        print(f"{name}\t{counts.total()}\t{product}\t{applied}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
