"""Baselines for voiced vs voiceless consonant classification (TopCap's comparison models).

Each class has ``fit(segments, labels)`` and ``predict_proba(segments) -> (n, 2)`` with column
1 = P(voiced). Segments are 16 kHz 1-D float arrays or objects with ``.waveform``.
"""

from reference_models.speech_baselines.mfcc_gru import MfccGru
from reference_models.speech_baselines.mfcc_svm import MfccSvm
from reference_models.speech_baselines.mfcc_transformer import MfccTransformer
from reference_models.speech_baselines.stft_cnn import StftCnn
from reference_models.speech_baselines.topgru import TopGru

__all__ = ["MfccGru", "MfccSvm", "MfccTransformer", "StftCnn", "TopGru"]
