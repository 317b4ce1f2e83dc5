"""What a rebuild can reuse: the build cache, page keys, and the plan that decides once
what a build reads, renders, indexes and writes."""
