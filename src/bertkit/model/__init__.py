"""The BERT model in torch: the encoder (bert.py), heads (heads.py), typed outputs, attention over padded or
packed tokens (attention.py, padding.py), init.

Knows nothing of text or files; :mod:`bertkit.convert` reads and writes checkpoints.
"""

from bertkit.model.bert import BertModel, set_packing
from bertkit.model.compiled import compile_model
from bertkit.model.heads import (
    BertForMaskedLM,
    BertForMultipleChoice,
    BertForPreTraining,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    num_labels,
)
from bertkit.model.outputs import ClassifierOutput, EncoderOutput, MaskedLMOutput, PreTrainingOutput, SpanOutput


def num_parameters(model) -> int:
    """Number of parameters, each shared tensor counted once (the MLM decoder is the word embedding)."""
    return sum(p.numel() for p in model.parameters())


# Every model class by its Hugging Face name (config.json ``architectures``); the checkpoint loader picks from it.
MODEL_CLASSES = {cls.__name__: cls for cls in (
    BertModel, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertForTokenClassification,
    BertForQuestionAnswering, BertForMultipleChoice)}

__all__ = ["BertModel", "BertForPreTraining", "BertForMaskedLM", "BertForSequenceClassification",
           "BertForTokenClassification", "BertForQuestionAnswering", "BertForMultipleChoice", "MODEL_CLASSES",
           "EncoderOutput", "PreTrainingOutput", "MaskedLMOutput", "ClassifierOutput", "SpanOutput", "num_labels",
           "num_parameters", "set_packing", "compile_model"]
