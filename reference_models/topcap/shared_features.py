"""A TopCap classifier whose on-disk feature cache is shared safely by worker processes: the
feature pass holds a file lock beside the cache, so concurrent units compute each feature once."""

from __future__ import annotations

from filelock import FileLock

from reference_models.topcap.classifier import TopCapClassifier


class SharedFeatures(TopCapClassifier):
    """One feature pass at a time per cache: a TopCap unit in another worker process waits for
    the lock, then reads the features the first one wrote instead of computing them again (the
    pass itself runs on every core, ``n_jobs``)."""

    def segment_results(self, segments):
        cache_dir = self._cache.dir
        cache_dir.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(cache_dir.parent / f"{cache_dir.name}.lock")):
            return super().segment_results(segments)
