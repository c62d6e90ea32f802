"""Measure how easy an English text is to read.

textstat, the usual library, now downloads NLTK's pronunciation dictionary at
run time for English, which a kiosk or a CI machine without internet cannot
do; so this counts syllables with Pyphen's bundled hyphenation dictionary (the
same fallback textstat uses) and applies Flesch's published formula.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import pyphen

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int

    @property
    def average_sentence(self) -> float:
        return self.words / max(1, self.sentences)

    @property
    def reading_ease(self) -> float:
        """Return the Flesch reading ease: 60–70 is plain English, below 50 is hard."""
        if not self.words:
            return 0.0
        return 206.835 - 1.015 * self.average_sentence - 84.6 * self.syllables / self.words


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


def measure(text: str) -> Readability:
    """Count the words, sentences and syllables of an English text."""
    words = _WORD.findall(text)
    # Words repeat: each distinct one is counted once, times how often it occurs.
    syllables = sum(_syllables(w) * n for w, n in Counter(words).items())
    sentences = len(_SENTENCE_END.findall(text)) or (1 if words else 0)
    return Readability(words=len(words), sentences=sentences, syllables=syllables)


def _syllables(word: str) -> int:
    if word[0].isdigit():
        return 1
    return _counted(word.lower())


@lru_cache(maxsize=65536)
def _counted(word: str) -> int:
    # Words repeat: counted once each, as hyphenating is most of a readability check.
    return len(_dictionary().positions(word)) + 1
