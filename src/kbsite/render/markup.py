"""A markdown-it-py plugin for the KB syntax inside text: Q-number references and URLs.

The parser is markdown-it's ``zero`` preset, so Markdown, HTML and template syntax in
an article (``*stars*``, ``<script>``, ``{{ x }}``) stay literal text and are escaped.
On top of it this plugin adds three inline rules and their renderers:

- ``kb_text`` replaces ``text`` so a run of plain text stops where a reference or URL
  could start;
- ``kb_reference`` turns ``Q123456`` into a link when the article is in the archive and
  into a marked "not in this archive" span otherwise;
- ``kb_url`` links http, https, ftp and mailto URLs (nothing else: no ``javascript:``).

The renderer asks ``env["article_href"](id)`` for a reference's relative href (None
when the article is not in the archive) and records every link in ``env["links"]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from kbsite.read.syntax import REFERENCE, URL, trim_url

ArticleHref = Callable[[str], "str | None"]
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_])(?:Q\d|(?:https?|ftp)://|mailto:)", re.IGNORECASE)
_Q_DIGIT = re.compile(r"[Qq]\d")


def kb_plugin(md: MarkdownIt, markdown: bool = False) -> None:
    """Add the KB inline rules and renderers to a MarkdownIt instance.

    ``markdown=True`` keeps Markdown's own inline syntax (emphasis, links) working: plain
    text then also stops where Markdown could start, not only where a reference could.
    """
    md.inline.ruler.at("text", _kb_markdown_text if markdown else _kb_text)
    md.inline.ruler.before("text", "kb_reference", _kb_reference)
    md.inline.ruler.before("text", "kb_url", _kb_url)
    md.add_render_rule("kb_reference", _render_reference)
    md.add_render_rule("link_open", _render_link_open)


def new_markdown() -> MarkdownIt:
    """The one MarkdownIt configuration kbsite renders article text with."""
    return MarkdownIt("zero").use(kb_plugin)


def new_page_markdown() -> MarkdownIt:
    """Markdown pages are Markdown (CommonMark), with the same references and URLs as
    articles; raw HTML stays text there too, and only safe link schemes become links."""
    return MarkdownIt("commonmark", {"html": False}).use(kb_plugin, markdown=True)


def has_link_candidate(text: str) -> bool:
    """Whether ``text`` holds anything the article parser could make a link of.

    Text without a candidate parses to a single ``text`` token under ``new_markdown()``
    (only the KB rules are enabled there), so a caller may skip the parser for it.
    The regex is slow over long text and most text has no candidate, so cheaper tests
    rule out first what cannot hold one: every candidate holds ``Q`` or ``q`` before a
    digit, ``://``, or (``mailto:`` in any case) ``o:`` or ``O:``.
    """
    maybe = "://" in text or "o:" in text or "O:" in text
    if not maybe and ("Q" in text or "q" in text):
        maybe = _Q_DIGIT.search(text) is not None
    return maybe and _CANDIDATE.search(text) is not None


def _kb_text(state: StateInline, silent: bool) -> bool:
    start = state.pos
    found = _CANDIDATE.search(state.src, start, state.posMax)
    if found is not None and found.start() == start:
        found = _CANDIDATE.search(state.src, start + 1, state.posMax)
    end = found.start() if found is not None else state.posMax
    if end == start:
        return False
    if not silent:
        state.pending += state.src[start:end]
    state.pos = end
    return True


def _kb_markdown_text(state: StateInline, silent: bool) -> bool:
    start = state.pos
    terminator = state.md.inline.terminator_re.search(state.src, start, state.posMax)
    end = terminator.start() if terminator is not None else state.posMax
    if end == start:
        return False
    candidate = _CANDIDATE.search(state.src, start + 1, end)
    if candidate is not None:
        end = candidate.start()
    if not silent:
        state.pending += state.src[start:end]
    state.pos = end
    return True


def _kb_reference(state: StateInline, silent: bool) -> bool:
    match = REFERENCE.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if not silent:
        token = state.push("kb_reference", "", 0)
        token.content = match.group(0)
        token.meta["id"] = "Q" + match.group(1)
    state.pos = match.end()
    return True


def _kb_url(state: StateInline, silent: bool) -> bool:
    match = URL.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    url = trim_url(match.group(0))
    href = state.md.normalizeLink(url) if url else ""
    if not url or not state.md.validateLink(href):
        return False
    if not silent:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": href, "class": "external"}
        token.markup = "linkify"
        token = state.push("text", "", 0)
        token.content = url
        state.push("link_close", "a", -1)
    state.pos += len(url)
    return True


def _render_reference(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    article_id: str = token.meta["id"]
    resolve: ArticleHref = env.get("article_href", lambda _id: None)
    href = resolve(article_id)
    _record(env, "article", article_id, href)
    text = escapeHtml(token.content)
    if href is None:
        return f'<span class="ref-missing" title="Not in this archive">{text}</span>'
    return f'<a class="ref" href="{escapeHtml(href)}">{text}</a>'


def _render_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    _record(env, "url", str(token.attrs.get("href", "")), str(token.attrs.get("href", "")))
    return self.renderToken(tokens, idx, options, env)


def _record(env: EnvType, kind: str, target: str, href: str | None) -> None:
    links: Any = env.get("links")
    if links is not None:
        links.append((kind, target, href))
