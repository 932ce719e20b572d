"""The text tokenizer of a checkpoint: a `tokenizers` BPE saved as tokenizer.json.

Byte-level, so any text round-trips exactly (the strict parser sees what the model wrote);
digits are single tokens, so numbers are spelled digit by digit.
"""

from __future__ import annotations

from pathlib import Path

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]
TOKENIZER_FILE = "tokenizer.json"


class TextTokenizer:
    """Thin wrapper giving the ids of the special tokens and plain encode/decode."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        ids = [tokenizer.token_to_id(t) for t in SPECIAL_TOKENS]
        if any(i is None for i in ids):
            raise ValueError(f"tokenizer lacks special tokens {SPECIAL_TOKENS}")
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = ids

    @classmethod
    def load(cls, path: str | Path) -> "TextTokenizer":
        from tokenizers import Tokenizer

        path = Path(path)
        if path.is_dir():
            path = path / TOKENIZER_FILE
        return cls(Tokenizer.from_file(str(path)))

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / TOKENIZER_FILE
        self.tok.save(str(path))
        return path

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=False)
