"""PostgreSQL fixtures (placeholder; the engine work fills this in)."""
