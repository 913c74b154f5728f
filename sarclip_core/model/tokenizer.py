"""CLIP's byte-level BPE tokenizer in plain Python and numpy: open_clip's tokens without importing PyTorch.

open_clip's own tokenizer module imports torch (it returns torch tensors), and the ONNX Runtime path
must run where PyTorch is not installed. This is the same algorithm as open_clip's SimpleTokenizer
with its default 'lower' cleaning (ftfy, HTML unescaping, whitespace, lower case) and truncation
(the last kept token becomes end-of-text), reading the same merges file, which export-onnx copies into
the checkpoint folder (VOCAB_FILE). The tests compare it with open_clip's tokens.
"""

from __future__ import annotations

import gzip
import html
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import ftfy
import numpy as np
import regex

from ..errors import SarclipError

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
MERGES = 49152 - 256 - 2  # open_clip reads this many merge rules after the header line
SPECIAL = ("<start_of_text>", "<end_of_text>")
PATTERN = regex.compile("|".join(SPECIAL) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                        regex.IGNORECASE)


@lru_cache()
def byte_symbols() -> dict[int, str]:
    """CLIP's reversible map of the 256 byte values onto printable unicode characters."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, codes)))


def clean(text: str) -> str:
    """open_clip's 'lower' cleaning: mojibake fixed, HTML entities unescaped, whitespace collapsed, lower case."""
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).lower()


class Tokenizer:
    """Texts -> (N, context_length) int64 token ids, as open_clip.tokenize gives them."""

    def __init__(self, vocab_path: str | Path):
        try:
            lines = gzip.open(vocab_path).read().decode("utf-8").split("\n")[1:MERGES + 1]
        except (OSError, EOFError, UnicodeDecodeError) as error:
            raise SarclipError(f"{vocab_path}: cannot read the tokenizer's merges ({error})") from None
        merges = [tuple(line.split()) for line in lines]
        if len(merges) != MERGES or any(len(pair) != 2 for pair in merges):
            raise SarclipError(f"{vocab_path}: not CLIP's BPE merges file ({len(merges)} rules)")
        symbols = list(byte_symbols().values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(pair) for pair in merges] + list(SPECIAL)
        self.encoder = {token: index for index, token in enumerate(vocab)}
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.start, self.end = self.encoder[SPECIAL[0]], self.encoder[SPECIAL[1]]
        self.cache = {token: token for token in SPECIAL}

    def bpe(self, token: str) -> list[str]:
        """The BPE pieces of one pre-token (its bytes as symbols), merged by rank."""
        if token not in self.cache:
            word = list(token[:-1]) + [token[-1] + "</w>"]
            while len(word) > 1:
                pairs = {(a, b) for a, b in zip(word, word[1:])}
                best = min(pairs, key=lambda pair: self.ranks.get(pair, float("inf")))
                if best not in self.ranks:
                    break
                merged, i = [], 0
                while i < len(word):
                    if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                        merged.append(word[i] + word[i + 1])
                        i += 2
                    else:
                        merged.append(word[i])
                        i += 1
                word = merged
            self.cache[token] = " ".join(word)
        return self.cache[token].split(" ")

    def encode(self, text: str) -> list[int]:
        """Token ids of one text, without start/end of text."""
        symbols = byte_symbols()
        ids = []
        for token in PATTERN.findall(clean(text)):
            ids += [self.encoder[piece] for piece in self.bpe("".join(symbols[b] for b in token.encode("utf-8")))]
        return ids

    def __call__(self, texts: Sequence[str], context_length: int) -> np.ndarray:
        """(N, context_length) int64 ids: start, tokens, end, zero padding; too long: cut, last id = end."""
        result = np.zeros((len(texts), context_length), np.int64)
        for row, text in enumerate(texts):
            tokens = [self.start] + self.encode(text) + [self.end]
            if len(tokens) > context_length:
                tokens = tokens[:context_length]
                tokens[-1] = self.end
            result[row, :len(tokens)] = tokens
        return result

    def count(self, text: str) -> int:
        """Tokens a text takes, start and end of text included (uncut)."""
        return len(self.encode(text)) + 2
