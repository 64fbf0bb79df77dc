"""Leaderboard renderers (registered as plugins by ``plugins.core``)."""
