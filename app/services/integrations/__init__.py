"""Integrations: API keys for /api/v1 (keys) and the keyset pages its lists walk (pages)."""
