"""The typed model every stage shares: the contract between parser, linker and renderer.

The parser fills these from KB plaintext and knows nothing of HTML; the templates read
them and know nothing of the file format.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Iterator
from pathlib import Path

EXCERPT_LENGTH = 200


@dataclasses.dataclass(slots=True)
class Paragraph:
    """Running text. Hard-wrapped prose is reflowed; short lines keep their breaks."""

    lines: list[str]
    """The paragraph's source lines, stripped of indentation."""
    line: int
    """1-based source line of the first line."""
    reflow: bool = True
    """Join the lines into one flowing paragraph (False: keep each line break)."""
    indented: bool = False
    """The source indented the whole paragraph (a quoted note or message)."""


@dataclasses.dataclass(slots=True)
class Preformatted:
    """Text whose spacing carries meaning: code, commands, messages, column tables."""

    text: str
    """Lines joined by newlines, common indentation removed, inner spacing exact."""
    line: int


@dataclasses.dataclass(slots=True)
class ListItem:
    """One item of a list; its content may hold paragraphs, code and nested lists."""

    marker: str
    """The marker as written: ``-``, ``*``, ``1.``, ``a)``, or a Q-number for reference lists."""
    blocks: list[Block]
    line: int


@dataclasses.dataclass(slots=True)
class ListBlock:
    """A bulleted, numbered or reference list."""

    items: list[ListItem]
    ordered: bool
    line: int
    start: int = 1
    """The number of the first item of a numbered list."""
    style: str = "bullet"
    """``bullet``, ``number``, ``letter`` or ``references`` (lines that start with a Q-number)."""


@dataclasses.dataclass(slots=True)
class Rule:
    """A line of dashes or equal signs standing alone inside the text."""

    line: int


@dataclasses.dataclass(slots=True)
class Heading:
    """An underlined subheading inside a list item, where no section can start."""

    text: str
    line: int


Block = Paragraph | Preformatted | ListBlock | Rule | Heading


@dataclasses.dataclass(slots=True)
class Section:
    """A heading underlined with ``=`` (level 1) or ``-`` (level 2), and the text under it."""

    title: str | None
    """None for the untitled text before an article's first heading."""
    level: int
    blocks: list[Block]
    line: int
    anchor: str = ""
    """Fragment id, unique within the article, filled in by the parser."""


@dataclasses.dataclass(slots=True)
class Field:
    """A ``Name : value`` line from the header or the trailing keywords block."""

    name: str
    value: str
    line: int


@dataclasses.dataclass(slots=True)
class AppliesTo:
    """One product in the "applies to" block; deeper bullets ("used with:") nest under it."""

    text: str
    items: list[AppliesTo] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class Reference:
    """A mention of another article (``Q123456``) somewhere in an article."""

    target: str
    """The normalised id, e.g. ``Q123456``."""
    line: int


@dataclasses.dataclass(slots=True)
class Article:
    """One knowledge-base article, parsed."""

    id: str
    """``Q`` and 5 to 8 digits, validated: safe to use in an output path."""
    source: Path
    """The file it came from."""
    title: str
    """The full title, type prefix included (``PRB: ...``)."""
    title_prefix: str | None = None
    """The title's type prefix without the colon (``PRB``, ``XADM``, ``Err Msg``), if any."""
    date: datetime.date | None = None
    date_text: str = ""
    """The date as written in the header (``08-MAY-2002``)."""
    category: str = ""
    """The header's bracketed tag, e.g. ``winnt``."""
    product: str = ""
    platform: str = ""
    """The part of ``PROD/VER`` before the versions (``MS-DOS``, ``WINDOWS``), often empty."""
    versions: list[str] = dataclasses.field(default_factory=list)
    operating_system: str = ""
    keywords: list[str] = dataclasses.field(default_factory=list)
    """The header's KEYWORDS, in order, without duplicates."""
    header_extra: list[Field] = dataclasses.field(default_factory=list)
    """Header lines kbsite does not know, kept so nothing is lost."""
    applies_to_intro: str = ""
    """The sentence that opens the applies-to block."""
    applies_to: list[AppliesTo] = dataclasses.field(default_factory=list)
    """The products the article applies to, one per bullet, nested as indented."""
    sections: list[Section] = dataclasses.field(default_factory=list)
    query_words: str | None = None
    """The text after ``Additional query words:`` (None when the line is absent)."""
    footer: list[Field] = dataclasses.field(default_factory=list)
    """The trailing block: Keywords, Technology, Version, Hardware, Issue type, Solution Type."""
    legal: list[str] = dataclasses.field(default_factory=list)
    """The disclaimer and copyright paragraphs at the very end."""
    references: list[Reference] = dataclasses.field(default_factory=list)
    """Every Q-number mentioned anywhere in the article, in order, with its line."""

    @property
    def bare_title(self) -> str:
        """The title without its type prefix, for sorting and the A-Z index."""
        if self.title_prefix and ":" in self.title:
            return self.title.split(":", 1)[1].strip() or self.title
        return self.title

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None


@dataclasses.dataclass(slots=True)
class ArticleRecord:
    """What the whole-archive stages need of one article, and no more: its header,
    whom it cites, what relates it to others, its excerpt; never its body.

    Linking, listings, feeds and the build cache work from records, so a build holds
    the whole archive's records at once but each article's body only while it is
    rendered and indexed.
    """

    id: str
    source: Path
    title: str
    title_prefix: str | None
    date: datetime.date | None
    category: str
    product: str
    bare_title: str
    keywords: list[str]
    references: list[str]
    """The ids the article cites, each once, in the order first cited."""
    features: str
    """What relates it to other articles (``link.related_articles``), sorted, each ended
    by ``FEATURE_END``: one string, not a dozen, as every record stays in memory (see
    ``link.features_of``)."""
    excerpt: str
    """The opening of its text, for feeds and search results."""

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None


@dataclasses.dataclass(slots=True)
class ArticleSummary:
    """What listing pages and the link graph need of an article: no body."""

    id: str
    title: str
    date: datetime.date | None
    category: str
    product: str
    bare_title: str

    @classmethod
    def of(cls, article: Article | ArticleRecord) -> ArticleSummary:
        return cls(
            article.id,
            article.title,
            article.date,
            article.category,
            article.product,
            article.bare_title,
        )


@dataclasses.dataclass(slots=True)
class TextPage:
    """A page written in Markdown beside the articles (an About page, a collection's
    history), shown with the site's layout and linked from its navigation."""

    source: Path
    slug: str
    """Safe for a path: lower-case letters, digits and ``-``."""
    title: str
    """The first ``#`` heading, else the file name."""
    text: str


def body_text(article: Article) -> str:
    """The article's readable text in reading order, paragraphs reflowed."""
    parts: list[str] = []
    if article.applies_to_intro:
        parts.append(article.applies_to_intro)
    stack = list(reversed(article.applies_to))
    while stack:
        item = stack.pop()
        parts.append(item.text)
        stack.extend(reversed(item.items))
    for section in article.sections:
        parts.extend(_block_texts(section.blocks))
    parts.extend(f"{field.name}: {field.value}" for field in article.footer)
    return "\n\n".join(part for part in parts if part)


def _block_texts(blocks: Iterable[Block]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield " ".join(block.lines) if block.reflow else "\n".join(block.lines)
        elif isinstance(block, Preformatted | Heading):
            yield block.text
        elif isinstance(block, ListBlock):
            for item in block.items:
                texts = list(_block_texts(item.blocks))
                if texts:
                    texts[0] = f"{item.marker} {texts[0]}"
                yield from texts


def excerpt(article: Article) -> str:
    """The opening of the article's first section, for result lists."""
    for section in article.sections:
        text = " ".join(" ".join(_block_texts(section.blocks)).split())
        if len(text) < 20:
            continue
        if len(text) <= EXCERPT_LENGTH:
            return text
        cut = text.rfind(" ", 0, EXCERPT_LENGTH)
        return text[: cut if cut > EXCERPT_LENGTH // 2 else EXCERPT_LENGTH] + " …"
    return ""
