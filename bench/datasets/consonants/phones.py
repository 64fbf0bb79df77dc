"""The consonant classes of the voicing task in ARPAbet, IPA and TIMIT labels.

Voiced: V L NG M N Y ZH; voiceless: F TH T S K CH (the classes used by TopCap).
"""

from __future__ import annotations

VOICED = ("V", "L", "NG", "M", "N", "Y", "ZH")
VOICELESS = ("F", "TH", "T", "S", "K", "CH")

IPA_TO_ARPABET = {
    "v": "V", "l": "L", "ŋ": "NG", "m": "M", "n": "N", "j": "Y", "ʒ": "ZH",
    "f": "F", "θ": "TH", "t": "T", "s": "S", "k": "K", "tʃ": "CH",
}
TIMIT_TO_ARPABET = {
    "v": "V", "l": "L", "ng": "NG", "m": "M", "n": "N", "y": "Y", "zh": "ZH",
    "f": "F", "th": "TH", "t": "T", "s": "S", "k": "K", "ch": "CH",
}


def voicing_label(arpabet: str) -> int | None:
    """1 for a voiced class phone, 0 for a voiceless one, None for phones outside the task.

    Stress digits (``AH0``) are ignored; case does not matter.
    """
    phone = arpabet.upper().rstrip("012")
    if phone in VOICED:
        return 1
    if phone in VOICELESS:
        return 0
    return None
