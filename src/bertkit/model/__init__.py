"""The BERT model in torch: the encoder (bert.py), heads (heads.py), typed outputs, unpad/pad helpers, init.

Knows nothing of text or files; :mod:`bertkit.convert` reads and writes checkpoints.
"""

from bertkit.model.bert import BertModel
from bertkit.model.heads import BertForMaskedLM, BertForPreTraining
from bertkit.model.outputs import EncoderOutput, MaskedLMOutput, PreTrainingOutput
from bertkit.model.padding import pad, unpad


def num_parameters(model) -> int:
    """Number of parameters, each shared tensor counted once (the MLM decoder is the word embedding)."""
    return sum(p.numel() for p in model.parameters())


__all__ = ["BertModel", "BertForPreTraining", "BertForMaskedLM", "EncoderOutput", "PreTrainingOutput",
           "MaskedLMOutput", "pad", "unpad", "num_parameters"]
