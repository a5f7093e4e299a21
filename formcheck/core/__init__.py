"""Plain data shared by every stage: events, the one analysis result, settings, background workers."""
