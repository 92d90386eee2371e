"""Publication: the seed contract's JSON-LD views and context, search and its index, and the DPP
registry with its outbox."""
