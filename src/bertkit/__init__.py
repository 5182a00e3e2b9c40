"""bertkit: BERT end to end — exact WordPiece, the model, Hugging Face checkpoints both ways, a CLI.

The public names are imported lazily so that ``import bertkit.tokenizer`` (pure Python) never pulls in torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "BertConfig": "bertkit.config",
    "Tokenizer": "bertkit.tokenizer",
    "BertModel": "bertkit.model",
    "BertForPreTraining": "bertkit.model",
    "load_pretrained": "bertkit.convert",
    "save_pretrained": "bertkit.convert",
    "set_packing": "bertkit.model",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bertkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
