"""Text folding shared by the evidence checker and the local engine (a leaf module: it
imports nothing of Delphos, so either side can use it without an import cycle)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lowercase without accents ("Três" → "tres"); same length in practice for words.
    Memoised: words repeat, and the callers fold every token of up to 100,000 characters."""
    lowered = word.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
