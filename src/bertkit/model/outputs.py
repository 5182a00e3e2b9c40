"""Typed model outputs: one dataclass per model family, never a tuple-or-dict switch.

Shapes: B batch, L sequence length, H hidden size, V vocab size.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class EncoderOutput:
    """What :class:`bertkit.model.BertModel` returns.

    last_hidden_state: (B, L, H) output of the last layer; at pad positions HF's values when the batch ran padded,
        zeros when it ran packed (``BertModel.packing``): read real positions only.
    pooler_output: (B, H) tanh(dense(last_hidden_state[:, 0])), or None for a model built without a pooler.
    hidden_states: when asked, num_hidden_layers + 1 tensors (B, L, H); [0] is the embeddings output.
    """

    last_hidden_state: Tensor
    pooler_output: Tensor | None = None
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class PreTrainingOutput:
    """What :class:`bertkit.model.BertForPreTraining` returns.

    prediction_logits: MLM scores, (B, L, V) for every position or (M, V) for the M positions asked for;
    seq_relationship_logits: (B, 2) NSP scores (0 = B follows A). Losses live in the objectives
    (:mod:`bertkit.tasks.pretraining`).
    """

    prediction_logits: Tensor
    seq_relationship_logits: Tensor
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class MaskedLMOutput:
    """What :class:`bertkit.model.BertForMaskedLM` returns: logits (B, L, V), or (M, V) for asked positions."""

    logits: Tensor
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class ClassifierOutput:
    """What the classification heads return: :class:`bertkit.model.BertForSequenceClassification` (B, num_labels),
    :class:`bertkit.model.BertForTokenClassification` (B, L, num_labels) and
    :class:`bertkit.model.BertForMultipleChoice` (B, C), one score per choice."""

    logits: Tensor
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class SpanOutput:
    """What :class:`bertkit.model.BertForQuestionAnswering` returns: start and end scores, each (B, L)."""

    start_logits: Tensor
    end_logits: Tensor
    hidden_states: tuple[Tensor, ...] | None = None
