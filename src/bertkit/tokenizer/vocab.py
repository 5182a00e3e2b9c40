"""Read and write ``vocab.txt`` (one token a line, line number = id) and ``tokenizer_config.json``.

The files are those of Hugging Face's ``BertTokenizer``; the config keys read are HF's names. Unknown keys are
ignored (HF configs carry many unrelated ones); a known key with the wrong type is an error naming file and key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_path, open_text, read_lines

VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_KEYS = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def load_vocab(path: str | os.PathLike) -> list[str]:
    """Return the tokens of a vocab file in id order (``.gz`` accepted).

    Raises BertkitError for a missing or empty file, or a token that appears twice (naming both lines).
    """
    tokens: list[str] = []
    seen: dict[str, int] = {}
    for lineno, tok in enumerate(read_lines(path), start=1):
        if tok in seen:
            raise BertkitError(f"{path}: line {lineno}: token {tok!r} already on line {seen[tok]}")
        seen[tok] = lineno
        tokens.append(tok)
    if not tokens:
        raise BertkitError(f"{path}: empty vocabulary")
    return tokens


def save_vocab(tokens: list[str], path: str | os.PathLike) -> None:
    """Write tokens one a line (id order), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for tok in tokens:
                f.write(tok + "\n")


@dataclass
class TokenizerConfig:
    """The options of a BERT WordPiece tokenizer, under Hugging Face's ``tokenizer_config.json`` names."""

    do_lower_case: bool = True
    strip_accents: bool | None = None
    tokenize_chinese_chars: bool = True
    never_split: list[str] | None = None
    do_basic_tokenize: bool = True
    unk_token: str = "[UNK]"
    sep_token: str = "[SEP]"
    pad_token: str = "[PAD]"
    cls_token: str = "[CLS]"
    mask_token: str = "[MASK]"
    model_max_length: int = 512
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON written by save: HF keys, plus the class name that lets ``AutoTokenizer`` load it."""
        d: dict[str, Any] = {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": self.do_lower_case,
            "strip_accents": self.strip_accents,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
            "do_basic_tokenize": self.do_basic_tokenize,
            "never_split": self.never_split,
        }
        for k in SPECIAL_KEYS:
            d[k] = getattr(self, k)
        d["model_max_length"] = self.model_max_length
        d["clean_up_tokenization_spaces"] = False
        return d


def _check(path: Path, key: str, value: Any, kind: str) -> Any:
    bad = False
    if kind == "bool":
        bad = not isinstance(value, bool)
    elif kind == "bool?":
        bad = value is not None and not isinstance(value, bool)
    elif kind == "token":
        if isinstance(value, dict) and isinstance(value.get("content"), str):  # serialised AddedToken
            value = value["content"]
        bad = not isinstance(value, str) or not value
    elif kind == "strlist?":
        bad = value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value))
    elif kind == "int":
        if isinstance(value, float) and value.is_integer():  # HF writes 1e30 for "no limit"
            value = int(value)
        bad = isinstance(value, bool) or not isinstance(value, int) or value <= 0
    if bad:
        raise BertkitError(f"{path}: key {key!r} has an invalid value {value!r} (expected {kind.rstrip('?')})")
    return value


_KINDS = {
    "do_lower_case": "bool",
    "strip_accents": "bool?",
    "tokenize_chinese_chars": "bool",
    "never_split": "strlist?",
    "do_basic_tokenize": "bool",
    "model_max_length": "int",
    **{k: "token" for k in SPECIAL_KEYS},
}


def load_config(path: str | os.PathLike) -> TokenizerConfig:
    """Parse ``tokenizer_config.json``; BertkitError on malformed JSON or an ill-typed known key."""
    p = Path(path)
    try:
        with open_text(p) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise BertkitError(f"{p}: line {e.lineno}: malformed JSON ({e.msg})") from None
    except UnicodeDecodeError as e:
        raise BertkitError(f"{p}: not valid UTF-8 ({e.reason})") from None
    if not isinstance(data, dict):
        raise BertkitError(f"{p}: expected a JSON object, got {type(data).__name__}")
    cfg = TokenizerConfig()
    for key, value in data.items():
        kind = _KINDS.get(key)
        if kind is None:
            cfg.extra[key] = value
            continue
        setattr(cfg, key, _check(p, key, value, kind))
    return cfg


def save_config(cfg: TokenizerConfig, path: str | os.PathLike) -> None:
    """Write ``tokenizer_config.json`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(cfg.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
