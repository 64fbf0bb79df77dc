"""Discovery: finding plugins through the ``bench`` entry-point group, calling their hooks in
isolation and holding what they registered (``loader``: loading and the process-wide
registries; ``registry``: name-owned registries with did-you-mean lookups)."""
