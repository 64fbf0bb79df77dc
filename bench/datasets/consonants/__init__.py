"""Consonant-voicing datasets: segments of voiced and voiceless consonants."""
