"""Live updates: the order event log, its delivery across processes, and the SSE streams."""
