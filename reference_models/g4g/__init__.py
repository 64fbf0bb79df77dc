"""G4G talking-face generation (arXiv:2402.18122), a documented reconstruction.

Only the paper's abstract is public; MODEL_CARD.md says which parts follow it and which are
our choices. This package never imports ``bench``.
"""

from reference_models.g4g.configs import G4GConfig, get_config

__all__ = ["G4GConfig", "get_config"]
