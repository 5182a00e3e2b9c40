"""BERT WordPiece tokenizer in pure Python (no torch), output identical to ``transformers.BertTokenizerFast``."""

from bertkit.tokenizer.encoding import Encoding
from bertkit.tokenizer.tokenizer import Tokenizer

__all__ = ["Encoding", "Tokenizer"]
