"""Stage 4: the model to HTML, through markdown-it-py (article text) and Jinja2 (pages).

Article text is written straight from the model's blocks as markdown-it's renderer
writes the equivalent block tokens, with inline content parsed by markdown-it and the
KB plugin wherever it holds a reference or URL, so nothing in an article is ever
interpreted as markup. The templates get typed page objects and never see the
KB file format.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import importlib.resources
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.ext
import jinja2.nodes
import jinja2.parser
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup

from kbsite import __version__
from kbsite.config import Config
from kbsite.model import (
    AppliesTo,
    Article,
    Block,
    Heading,
    ListBlock,
    Paragraph,
    Preformatted,
    Rule,
    Section,
)
from kbsite.render.charts import bar_chart, column_chart
from kbsite.render.markup import has_link_candidate, new_markdown, new_page_markdown
from kbsite.site.kinds import KIND_OF, Page
from kbsite.site.link import FACET_KINDS, Site
from kbsite.site.pages import (
    ArticleLinker,
    ArticleLinks,
    Link,
    MarkdownPage,
    StatsPage,
    article_href,
)
from kbsite.site.table import LinkTable

SEARCH_SCRIPTS = (
    "static/porter.js",
    "static/search-analysis.js",
    "static/search-query.js",
    "static/search-index.js",
    "static/search-engine.js",
    "static/search-page.js",
)
"""The in-browser search's scripts in the packaged or theme static files, in load order:
the sources the build joins into ``SEARCH_BUNDLE``, the files a ZIM leaves out."""
SEARCH_BUNDLE = "static/search.js"
"""The one search script the pages load, from the site's top: ``SEARCH_SCRIPTS`` joined
by the build, since each file a ``file://`` page loads costs the search page a round trip
before its first results. The benchmark counts its bytes."""
SEARCH_META = "search/meta.js"
"""The browser index's first file (``webindex.py``), which the search page loads with the
scripts, just after ``SEARCH_BUNDLE``, rather than asking for it once they run."""


FRAGMENTS_KEPT = 20_000
"""Fragments a ``FragmentCache`` holds before it starts afresh: every worker has one, and
an archive's related lists name most of its articles (pages are rendered in archive
order, so an article's entry is mostly wanted again soon after it was made)."""


class FragmentCache(jinja2.ext.Extension):
    """``{% cache key, ... %}...{% endcache %}``: the body is rendered once per key and
    the HTML reused, for as long as the environment (one build's renderer) lives.

    For what many pages show alike: an article is listed on some ten other articles'
    pages (related articles, backlinks), and rendering its entry each time was a sixth
    of an article page; the site navigation is the same on every page at one depth. The
    key must name everything the body shows that can differ within a build: an
    article's id stands for its title, date and product, but the page's ``root`` has to
    be part of the key.
    """

    tags = {"cache"}  # noqa: RUF012 - Jinja's Extension declares tags a plain set

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        self.fragments: dict[object, str] = {}

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        key = parser.parse_tuple()
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        fragment = self.call_method("_fragment", [key])
        return jinja2.nodes.CallBlock(fragment, [], [], body).set_lineno(lineno)

    def _fragment(self, key: object, caller: Callable[[], str]) -> str:
        html = self.fragments.get(key)
        if html is None:
            if len(self.fragments) >= FRAGMENTS_KEPT:
                self.fragments.clear()
            html = self.fragments[key] = caller()
        return html


class TemplateEnvironment(jinja2.Environment):
    """A Jinja environment whose templates see its globals in one plain dict."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """The environment's globals overlaid with the template's own, copied.

        Jinja chains the two maps so that later changes to the environment's globals
        show; kbsite sets them all before the first template loads (as Jinja asks), and
        the chained lookups every render makes cost a tenth of an article page.
        """
        return {**self.globals, **(d or {})}


class CompiledTemplates(jinja2.BytecodeCache):
    """The templates as Jinja compiled them, kept for the life of the process (keyed by
    name, file and source checksum, so an edited template compiles again): a live
    preview makes a renderer for every rebuild, and compiling its templates anew took a
    tenth of an edit's time to its page. Forked workers inherit them compiled."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        compiled = self.compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def template_loader(theme: Path | None) -> jinja2.BaseLoader:
    """The packaged templates, each replaced by the theme folder's file of the same name.

    A theme holds only what it changes: a ``base.html`` of its own, say, or a
    ``static/kbsite.css`` (static files are copied the same way, theme last).
    """
    packaged = jinja2.FileSystemLoader(templates_dir())
    if theme is None:
        return packaged
    return jinja2.ChoiceLoader([jinja2.FileSystemLoader(theme), packaged])


def templates_dir() -> Path:
    """The packaged templates, or the repository's top-level ``templates/`` in a checkout."""
    packaged = importlib.resources.files("kbsite") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "templates"


@dataclasses.dataclass(slots=True)
class RenderedSection:
    title: str | None
    level: int
    anchor: str
    html: Markup
    heading: int
    """The HTML level of its title (``h2``, ``h3``): see ``title_levels``."""


@dataclasses.dataclass(slots=True)
class TocEntry:
    title: str
    anchor: str
    children: list[TocEntry] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class RenderedAppliesTo:
    html: Markup
    items: list[RenderedAppliesTo]


@dataclasses.dataclass(slots=True)
class ArticlePage(ArticleLinks):
    """Everything an article page shows, already rendered where it is article text: its
    ``ArticleLinks`` (which its page key digests) and the article itself."""

    path: str
    root: str
    article: Article
    title_html: Markup
    sections: list[RenderedSection]
    applies_to: list[RenderedAppliesTo]
    query_words: Markup | None
    footer: list[tuple[str, Markup]]
    header_extra: list[Markup]
    legal: list[Markup]
    toc: list[TocEntry]
    """Headings for the in-page table of contents, subsections nested."""

    @property
    def title(self) -> str:
        return f"{self.article.id}: {self.article.title}"


class PageRenderer:
    """Renders every kind of page of one site; one instance per process."""

    def __init__(
        self,
        site: Site,
        settings: Config | None = None,
        site_search: bool = True,
        nav_pages: Sequence[Link] = (),
        table: LinkTable | None = None,
    ) -> None:
        """``site_search=False`` leaves out the header's search box and the search scripts,
        for readers such as Kiwix that bring their own search, and the feed and OpenSearch
        links: such a reader holds the pages only. ``nav_pages`` are the Markdown pages
        the navigation links to, hrefs from the site's top. ``table``: the site's
        ``LinkTable``, which a forked worker reads the other articles from."""
        settings = settings or Config()
        self.site = site
        self.site_title = settings.title
        self.md = new_markdown()
        self.page_md = new_page_markdown()
        self.env = TemplateEnvironment(
            loader=template_loader(settings.templates),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates do not change while a build runs
            cache_size=-1,  # the few templates in a plain dict: Jinja's LRU cache is slower
            extensions=[FragmentCache],
            bytecode_cache=COMPILED_TEMPLATES,
        )
        self.env.filters["longdate"] = _long_date
        self.env.globals.update(
            site_title=settings.title,
            site_description=settings.description,
            language=settings.language,
            version=__version__,
            facet_kinds=FACET_KINDS,
            site_search=site_search,
            search_script=SEARCH_BUNDLE,
            search_meta=SEARCH_META,
            opensearch=site_search and bool(settings.base_url),
            nav_pages=list(nav_pages),
        )
        self.article_links = ArticleLinker(site, table)
        self._extra: dict[type, Callable[[Any], dict[str, Any]]] = {
            MarkdownPage: self._markdown_extra,
            StatsPage: self._stats_extra,
        }
        """What a template gets beside its page, for the kinds that need more."""

    # -- pages ------------------------------------------------------------------------

    def article_page(self, article: Article) -> str:
        return self._render("article.html", self.article_context(article))

    def other_page(self, page: Page) -> str:
        """A page besides the articles', of one of the ``PAGE_KINDS``, through its kind's
        template."""
        extra = self._extra.get(type(page))
        context = extra(page) if extra is not None else {}
        template = self.env.get_template(KIND_OF[type(page)].template)
        return template.render(page=page, root=page.root, **context)

    def _markdown_extra(self, page: MarkdownPage) -> dict[str, Any]:
        return {"body": Markup(self.page_md.render(page.text, self._env(prefix="../kb/")))}

    def _stats_extra(self, page: StatsPage) -> dict[str, Any]:
        return {
            "charts": {
                "years": column_chart(page.years, "Articles per year"),
                "categories": bar_chart(page.categories, "Articles per category"),
                "most_cited": bar_chart(page.most_cited, "Articles referred to most"),
            }
        }

    def _render(self, name: str, page: Any) -> str:
        return self.env.get_template(name).render(page=page, root=page.root)

    def article_context(self, article: Article) -> ArticlePage:
        env = self._env()
        text = self.inline
        links = self.article_links(article, article.id, (r.target for r in article.references))
        return ArticlePage(
            path=article_href(article.id),
            root="../",
            article=article,
            title_html=text(article.title, env),
            sections=[
                RenderedSection(
                    s.title, s.level, s.anchor, self.blocks(s.blocks, env, level + 1), level
                )
                for s, level in zip(article.sections, title_levels(article.sections), strict=True)
            ],
            applies_to=self._applies_to(article.applies_to, env),
            query_words=text(article.query_words, env) if article.query_words is not None else None,
            footer=[(f.name, text(f.value, env)) for f in article.footer],
            header_extra=[text(f.value, env) for f in article.header_extra],
            legal=[text(p, env) for p in article.legal],
            **_fields(links),
            toc=table_of_contents(article),
        )

    def _applies_to(self, items: list[AppliesTo], env: dict[str, Any]) -> list[RenderedAppliesTo]:
        return [
            RenderedAppliesTo(self.inline(i.text, env), self._applies_to(i.items, env))
            for i in items
        ]

    # -- article text -----------------------------------------------------------------

    def _env(self, prefix: str = "") -> dict[str, Any]:
        known = self.article_links.known
        return {
            "article_href": lambda i: f"{prefix}{i}.html" if known(i) else None,
            "links": [],
        }

    def inline(self, text: str, env: dict[str, Any]) -> Markup:
        """One line of article text (a title, a field value) with its links."""
        return Markup(self._text(text, env))

    def blocks(self, blocks: Sequence[Block], env: dict[str, Any], heading: int) -> Markup:
        """The blocks as HTML, written straight from the model the way markdown-it's
        renderer writes the equivalent block tokens: building and rendering a token per
        paragraph cost a quarter of an article page. Headings among them are ``h<heading>``."""
        out: list[str] = []
        self._write(blocks, out, env, heading, tight=False)
        return Markup("".join(out))

    def _text(self, text: str, env: dict[str, Any]) -> str:
        """Inline text as markdown-it and the KB plugin render it. Most text holds no
        reference or URL: that parses to one text token, rendered escaped, so the
        parser is skipped."""
        if not has_link_candidate(text):
            return escapeHtml(text)
        children: list[Token] = []
        self.md.inline.parse(text, self.md, env, children)
        html: str = self.md.renderer.render(children, self.md.options, env)
        return html

    def _write(
        self,
        blocks: Sequence[Block],
        out: list[str],
        env: dict[str, Any],
        heading: int,
        tight: bool,
    ) -> None:
        for block in blocks:
            if isinstance(block, Paragraph):
                self._write_paragraph(block, out, env, tight)
            elif isinstance(block, Preformatted):
                out += ("<pre>", self._text(block.text, env), "</pre>\n")
            elif isinstance(block, ListBlock):
                self._write_list(block, out, env, heading)
            elif isinstance(block, Rule):
                out.append("<hr>\n")
            elif isinstance(block, Heading):
                out += (f"<h{heading}>", self._text(block.text, env), f"</h{heading}>\n")

    def _write_paragraph(
        self, block: Paragraph, out: list[str], env: dict[str, Any], tight: bool
    ) -> None:
        """A paragraph; in a tight list item (the item's only block) without its ``<p>``,
        unless it is indented."""
        if block.reflow:
            html = self._text(reflow(block.lines), env)
        else:
            html = "<br>\n".join(self._text(line, env) for line in block.lines)
        if block.indented:
            out += ('<p class="indented">', html, "</p>\n")
        elif tight:
            out.append(html)
        else:
            out += ("<p>", html, "</p>\n")

    def _write_list(
        self, block: ListBlock, out: list[str], env: dict[str, Any], heading: int
    ) -> None:
        tag = "ol" if block.ordered else "ul"
        attrs = ""
        if block.ordered and block.start != 1:
            attrs += f' start="{block.start}"'
        if block.style == "letter":
            attrs += ' type="a"'
        marked = block.style != "references" and (
            block.ordered or any(ch.isalnum() for item in block.items for ch in item.marker)
        )
        if block.style == "references":
            attrs += ' class="references"'
        elif marked:
            attrs += ' class="marked"'
        out.append(f"<{tag}{attrs}>\n" if block.items else f"<{tag}{attrs}>")
        for item in block.items:
            only = item.blocks[0] if len(item.blocks) == 1 else None
            bare_text = isinstance(only, Paragraph) and not only.indented
            # as markdown-it writes it: a line break after <li> unless bare text or nothing follows
            if marked:
                out += ('<li>\n<span class="marker">', escapeHtml(item.marker), "</span>")
            elif bare_text or not item.blocks:
                out.append("<li>")
            else:
                out.append("<li>\n")
            self._write(item.blocks, out, env, heading, tight=isinstance(only, Paragraph))
            out.append("</li>\n")
        out.append(f"</{tag}>\n")


_LINK_FIELDS = tuple(field.name for field in dataclasses.fields(ArticleLinks))


def _fields(links: ArticleLinks) -> dict[str, Any]:
    return {name: getattr(links, name) for name in _LINK_FIELDS}


def title_levels(sections: Sequence[Section]) -> list[int]:
    """Each section title's HTML heading level, so that a page never skips one: 2, or 3
    for a ``----`` underlined section under a titled one above it. A section without a
    title counts as 1, the page's own title, for the headings inside it."""
    levels: list[int] = []
    titled = False
    for section in sections:
        if section.title is None:
            levels.append(1)
            continue
        levels.append(3 if section.level > 1 and titled else 2)
        titled = True
    return levels


def table_of_contents(article: Article) -> list[TocEntry]:
    """The titled sections, a subsection nested under the section above it."""
    entries: list[TocEntry] = []
    for section, level in zip(article.sections, title_levels(article.sections), strict=True):
        if section.title is None:
            continue
        entry = TocEntry(section.title, section.anchor)
        if level == 3:
            entries[-1].children.append(entry)
        else:
            entries.append(entry)
    return entries


def reflow(lines: Sequence[str]) -> str:
    """Join hard-wrapped lines; a word hyphenated at a line's end is joined back up."""
    text = ""
    for line in lines:
        if not text:
            text = line
        elif len(text) > 1 and text.endswith("-") and text[-2].isalpha() and line[:1].isalpha():
            text += line
        else:
            text += " " + line
    return text


@functools.cache
def _long_date(value: datetime.date | None) -> str:
    """``3 March 1999``; cached, as strftime is slow and every listed article shows one."""
    return f"{value.day} {value:%B %Y}" if value else ""
