"""Engine phone symbols to ARPAbet (CMU's 39 phones without stress, plus SIL, DX and Q).

One table per engine. Silence and pauses map to ``SIL``. A symbol missing from its table is a
build error: a phone silently dropped would shift every label after it.
"""

from __future__ import annotations

# Festival's "radio" phone set (kal_diphone, ked_diphone, cmu_us_slt_arctic_hts).
FESTIVAL_TO_ARPABET: dict[str, str] = {
    "pau": "SIL", "h#": "SIL", "brth": "SIL",
    "aa": "AA", "ae": "AE", "ah": "AH", "ao": "AO", "aw": "AW", "ax": "AH", "axr": "ER",
    "ay": "AY", "eh": "EH", "er": "ER", "ey": "EY", "ih": "IH", "iy": "IY", "ow": "OW",
    "oy": "OY", "uh": "UH", "uw": "UW",
    "b": "B", "ch": "CH", "d": "D", "dh": "DH", "dx": "DX", "f": "F", "g": "G", "hh": "HH",
    "jh": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "ng": "NG", "p": "P", "r": "R",
    "s": "S", "sh": "SH", "t": "T", "th": "TH", "v": "V", "w": "W", "y": "Y", "z": "Z",
    "zh": "ZH",
}

# espeak-ng's English phoneme mnemonics (all en-* voices). Stress marks (' and ,) are stripped
# before the lookup. R-coloured vowels map to their nucleus (one engine phone -> one ARPAbet
# phone keeps the timing exact); the stressed/unstressed central r-vowels map to ER.
ESPEAK_TO_ARPABET: dict[str, str] = {
    "_": "SIL", "_:": "SIL", "_!": "SIL", "_^_": "SIL", "||": "SIL", "|": "SIL",
    # consonants
    "p": "P", "b": "B", "t": "T", "t2": "T", "t[": "T", "d": "D", "d[": "D", "k": "K",
    "g": "G", "f": "F", "v": "V", "T": "TH", "D": "DH", "s": "S", "z": "Z", "S": "SH",
    "Z": "ZH", "h": "HH", "x": "HH", "tS": "CH", "dZ": "JH", "m": "M", "n": "N", "N": "NG",
    "l": "L", "@L": "L", "r": "R", "r-": "R", "w": "W", "w#": "W", "j": "Y",
    "t#": "DX", "d#": "DX", "?": "Q", "n-": "N", "m-": "M",
    # vowels
    "@": "AH", "@2": "AH", "@5": "AH", "V": "AH", "a#": "AH",
    "3": "ER", "3:": "ER", "IR": "ER", "VR": "ER", "@r": "ER",
    "a": "AE", "aa": "AE", "A:": "AA", "A@": "AA", "A": "AA", "0": "AA", "O2": "AA",
    "O:": "AO", "O@": "AO", "O": "AO", "o@": "AO",
    "E": "EH", "e@": "EH", "e": "EH",
    "I": "IH", "I2": "IH", "I#": "IH", "i@": "IH", "i@3": "IH",
    "i": "IY", "i:": "IY",
    "U": "UH", "U@": "UH", "u:": "UW", "u": "UW",
    "aI": "AY", "aI2": "AY", "aI@": "AY", "aU": "AW", "aU@": "AW", "eI": "EY", "oU": "OW",
    "o": "OW", "OI": "OY",
}

TABLES = {"festival": FESTIVAL_TO_ARPABET, "espeak": ESPEAK_TO_ARPABET}


class UnknownPhoneError(ValueError):
    """An engine produced a phone symbol that its table does not map."""


def to_arpabet(engine: str, symbol: str) -> str:
    """Map one engine phone symbol to ARPAbet; raise :class:`UnknownPhoneError` if unmapped."""
    table = TABLES[engine]
    key = symbol.lstrip("',") if engine == "espeak" else symbol
    try:
        return table[key]
    except KeyError:
        raise UnknownPhoneError(f"{engine} phone {symbol!r} has no ARPAbet mapping in "
                                "bench/datasets/speech/phone_maps.py") from None


# espeak emits the palatal modifier ";" as its own event. After "I" the pair is one /j/ ("onion"
# -> V n I ; @ n); after another vowel it is a linking glide between words ("sea ; evening"),
# which we fold into that vowel (a dictionary-based aligner would not label it).
ESPEAK_PAIRS = {("I", ";"): "j"}
ESPEAK_MODIFIERS = {";"}


def _merge_espeak_pairs(phones: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    out: list[tuple[str, float, float]] = []
    for symbol, start, end in phones:
        if out:
            pair = (out[-1][0].lstrip("',"), symbol.lstrip("',"))
            if pair in ESPEAK_PAIRS:
                out[-1] = (ESPEAK_PAIRS[pair], out[-1][1], end)
                continue
            if pair[1] in ESPEAK_MODIFIERS:
                out[-1] = (out[-1][0], out[-1][1], end)
                continue
        out.append((symbol, start, end))
    return out


def map_phones(engine: str, phones: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Map a phone sequence and merge neighbouring silences into one ``SIL``."""
    if engine == "espeak":
        phones = _merge_espeak_pairs(phones)
    out: list[tuple[str, float, float]] = []
    for symbol, start, end in phones:
        label = to_arpabet(engine, symbol)
        if out and label == "SIL" and out[-1][0] == "SIL":
            out[-1] = ("SIL", out[-1][1], end)
        else:
            out.append((label, start, end))
    return out
