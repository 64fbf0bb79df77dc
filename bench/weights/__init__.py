"""Pretrained-weights registry: locate, verify, fetch, import and load weight files."""

from bench.weights.registry import (
    WeightsIntegrityError,
    WeightsStatus,
    WeightsUnavailable,
    fetch,
    import_file,
    load_state_dict,
    status,
    verify,
    weights_path,
)

__all__ = [
    "WeightsIntegrityError",
    "WeightsStatus",
    "WeightsUnavailable",
    "fetch",
    "import_file",
    "load_state_dict",
    "status",
    "verify",
    "weights_path",
]
