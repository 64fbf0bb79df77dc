"""Word lists and a seeded sampler for phone-balanced utterance texts.

Words are grouped by the task consonant they carry (in initial, medial and final position and in
several vowel contexts); a general group covers the other English phones, bilabials and rounded
vowels that the talking-face renderer needs.
"""

from __future__ import annotations

import numpy as np

WORDS_BY_CONSONANT: dict[str, tuple[str, ...]] = {
    "V": ("very", "vine", "voice", "cave", "move", "over", "seven", "valley", "vote", "vivid",
          "give", "dove", "wave", "oven", "evening", "vast", "visit", "never", "silver", "vowel"),
    "L": ("light", "blue", "tall", "feel", "yellow", "lamp", "follow", "lake", "soul", "lily",
          "cool", "loud", "lemon", "allow", "pillow", "leaf", "slow", "hello", "ball", "line"),
    "NG": ("sing", "long", "young", "king", "thing", "finger", "ring", "wrong", "hanging", "strong",
           "song", "bring", "tongue", "anger", "wing", "singer", "among", "spring", "swing", "hung"),
    "M": ("moon", "map", "summer", "time", "home", "mouth", "lemon", "farm", "mud", "meet",
          "army", "room", "gum", "moment", "mime", "camel", "mom", "hammer", "team", "mouse"),
    "N": ("noon", "nine", "dinner", "rain", "sun", "knee", "night", "tone", "pen", "nose",
          "funny", "green", "only", "none", "nut", "honey", "lane", "noise", "banana", "north"),
    "Y": ("yes", "yellow", "you", "young", "yard", "youth", "beyond", "yam", "million", "year",
          "yawn", "yoga", "yell", "yak", "yolk", "yet", "use", "cute", "few", "music"),
    "ZH": ("measure", "vision", "usual", "treasure", "pleasure", "leisure", "casual", "beige",
           "garage", "decision", "television", "Asia", "division", "collision", "azure",
           "rouge", "massage", "mirage", "visual", "closure"),
    "F": ("fish", "four", "coffee", "life", "laugh", "phone", "safe", "fine", "leaf", "off",
          "after", "food", "fall", "golf", "fox", "often", "wife", "face", "fun", "muffin"),
    "TH": ("thin", "think", "thumb", "bath", "earth", "teeth", "author", "nothing", "both", "path",
           "three", "truth", "month", "math", "thick", "faith", "north", "mouth", "thought",
           "healthy"),
    "T": ("tea", "top", "cat", "time", "boat", "table", "eight", "stone", "twenty", "heat",
          "tune", "toe", "attack", "tight", "hotel", "toy", "tall", "mat", "tooth", "return"),
    "S": ("sea", "sun", "bus", "ice", "listen", "sister", "glass", "soup", "house", "seat",
          "six", "sauce", "spoon", "class", "say", "mess", "sock", "essay", "sail", "horse"),
    "K": ("key", "cook", "book", "sky", "cake", "kite", "black", "school", "cold", "car",
          "duck", "pocket", "quick", "milk", "coat", "kick", "because", "okay", "cup", "bike"),
    "CH": ("chair", "cheese", "church", "teach", "watch", "kitchen", "beach", "chin", "lunch",
           "much", "catch", "choose", "nature", "question", "chalk", "reach", "chew", "match",
           "picture", "check"),
}

GENERAL_WORDS: tuple[str, ...] = (
    "baby", "puppy", "bubble", "people", "paper", "boy", "wood", "window", "would", "boot",
    "go", "road", "all", "law", "open", "pool", "hope", "above", "job", "web",
    "bowl", "brown", "power", "red", "dog", "good", "bird", "water", "zoo", "jump",
    "wish", "shoe", "why", "who", "how", "we", "are", "her", "away", "big",
    "bed", "put", "push", "blue", "book", "rope", "bee", "up", "hop", "rob",
)

TASK_CONSONANTS: tuple[str, ...] = tuple(WORDS_BY_CONSONANT)


class TextSampler:
    """Seeded word sequences that keep the task consonants about equally represented.

    Each word slot goes to the least-used consonant group (ties broken at random), or with
    probability ``general_share`` to a general word, so every class gets examples from every
    speaker.
    """

    def __init__(self, seed: int, general_share: float = 0.25) -> None:
        self.rng = np.random.default_rng(seed)
        self.general_share = general_share
        self.counts = {c: 0 for c in TASK_CONSONANTS}

    def word(self) -> str:
        """Draw one word."""
        if self.rng.random() < self.general_share:
            return str(self.rng.choice(GENERAL_WORDS))
        low = min(self.counts.values())
        candidates = [c for c in TASK_CONSONANTS if self.counts[c] == low]
        group = candidates[int(self.rng.integers(len(candidates)))]
        self.counts[group] += 1
        words = WORDS_BY_CONSONANT[group]
        return words[int(self.rng.integers(len(words)))]

    def text(self, n_words: int) -> str:
        """A sequence of ``n_words`` words, capitalised and ending with a full stop."""
        words = [self.word() for _ in range(n_words)]
        return " ".join(words).capitalize() + "."
