"""dtobs: observability as code. load spec → validate → build model → render → check → write."""
