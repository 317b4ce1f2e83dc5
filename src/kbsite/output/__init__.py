"""Where built things go: the site folder (staged and swapped in, or patched in place),
the spool of parsed articles, feeds and sitemaps, and the exports (ZIM, JSON, Markdown)."""
