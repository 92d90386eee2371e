"""Documents: the EN 18223 passport document (header and content sections), its dppLifecycle
member, merge patch, element paths, the full representation and entity tags."""
