"""Full-text search: the analysis of text into terms, the whoosh index and the browser's
sharded copy, the query language, its evaluation and the one ranking both share."""
