"""Talking-face datasets: the embedded synthetic set and adapters for real corpora."""
