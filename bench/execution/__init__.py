"""Execution: from a config to verified records. Planning units (``config``, ``planning``),
running them (``runner``; ``executors`` and ``distributed`` for pools and Ray), the on-disk state
(``layout``'s ``RunsLayout``, ``store``, ``records``, ``integrity``) and what a record says about
how it was made (``provenance``, ``code_identity``, ``determinism``, ``stats`` for the CIs)."""
