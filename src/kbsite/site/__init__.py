"""The site graph, made from the whole archive's records: references and backlinks,
related articles, facets, and the table of page kinds with their listings."""
