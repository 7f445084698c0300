"""Pure product rules: no Flask, no database session."""
