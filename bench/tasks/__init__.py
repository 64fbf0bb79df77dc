"""Task runners: how the harness runs a method of each task."""
