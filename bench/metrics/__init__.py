"""Metrics and the networks they need."""
