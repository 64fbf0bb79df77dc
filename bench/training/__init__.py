"""Training code for the networks the harness ships (the embedded-track SyncNet)."""
