"""Datasets: embedded corpora shipped with the package and adapters for real corpora."""
