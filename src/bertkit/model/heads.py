"""Every BERT head and the model that carries it: pretraining (MLM, NSP; Devlin et al. 2018, section 3.1; HF
``BertPreTrainingHeads``) and the one added layer per fine-tuning family (section 4; HF
``BertFor{SequenceClassification,TokenClassification,QuestionAnswering,MultipleChoice}``).

Each model class says which head parameters it owns (``HEADS``: the first name component of those parameters,
as in :mod:`bertkit.convert.keymap`) and whether it has a pooler (``POOLER``); the checkpoint loader reads
these instead of hard-coding prefixes. Heads return logits; losses live in :mod:`bertkit.tasks`.

The MLM decoder is tied to the word embeddings by construction: the head owns no decoder matrix and is given
the embedding weight at call time, so the tie survives ``.to()``, ``load_state_dict`` and meta-device
loading, and the weight is counted (and saved) once.

Shapes: B batch, L sequence length, H hidden size, V vocab size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.config import BertConfig
from bertkit.model.bert import ACTIVATIONS, BertModel
from bertkit.model.dropout import Dropout
from bertkit.model.init import init_bert_weights
from bertkit.model.outputs import ClassifierOutput, MaskedLMOutput, PreTrainingOutput, SpanOutput


class MLMHead(nn.Module):
    """dense + activation + LayerNorm, then logits = h @ word_embeddings.T + bias."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.transform = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = ACTIVATIONS[config.hidden_act]
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, x: Tensor, decoder_weight: Tensor, positions: Tensor | None = None) -> Tensor:
        """x: (B, L, H); decoder_weight: (V, H), the word embeddings.

        positions: None scores every position and returns (B, L, V); (M,) long flat indices into B*L return
        (M, V) for those positions only (sparse MLM: the transform and the decoder skip the unlabelled ~85%).
        """
        if positions is not None:
            x = x.flatten(0, 1).index_select(0, positions)  # (B, L, H) -> (M, H)
        return F.linear(self.norm(self.act(self.transform(x))), decoder_weight, self.bias)


class BertForPreTraining(nn.Module):
    """BertModel + MLM head + NSP head (Linear(H, 2) on the pooled output). Returns logits; the losses live in
    :mod:`bertkit.tasks.pretraining`."""

    HEADS = ("mlm", "nsp")
    POOLER = True

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        self.mlm = MLMHead(config)
        self.nsp = nn.Linear(config.hidden_size, 2)
        init_bert_weights(self.mlm, config.initializer_range)
        init_bert_weights(self.nsp, config.initializer_range)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        mlm_positions: Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> PreTrainingOutput:
        """input_ids, attention_mask, token_type_ids: (B, L) as for :meth:`BertModel.forward`.

        mlm_positions: (M,) flat indices into B*L; given, ``prediction_logits`` is (M, V) for those positions
        only, else (B, L, V). ``seq_relationship_logits`` is (B, 2), 0 = B follows A.
        """
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        logits = self.mlm(enc.last_hidden_state, self.bert.embeddings.word.weight, mlm_positions)
        return PreTrainingOutput(logits, self.nsp(enc.pooler_output), enc.hidden_states)


class BertForMaskedLM(nn.Module):
    """BertModel + MLM head only; like HF's, built without a pooler unless asked."""

    HEADS = ("mlm",)
    POOLER = False

    def __init__(self, config: BertConfig, add_pooling_layer: bool = False):
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=add_pooling_layer)
        self.mlm = MLMHead(config)
        init_bert_weights(self.mlm, config.initializer_range)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        mlm_positions: Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> MaskedLMOutput:
        """Inputs as for :meth:`BertForPreTraining.forward`; returns logits (B, L, V), or (M, V) with
        ``mlm_positions``."""
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        logits = self.mlm(enc.last_hidden_state, self.bert.embeddings.word.weight, mlm_positions)
        return MaskedLMOutput(logits, enc.hidden_states)


def num_labels(config: BertConfig) -> int:
    """Outputs of a classification head: 1 for regression, else ``len(id2label)`` (2 without labels, as HF)."""
    if config.problem_type == "regression":
        return 1
    return len(config.id2label) if config.id2label else 2


def _classifier_dropout(config: BertConfig) -> Dropout:
    p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
    return Dropout(p)


class _OneLayer(nn.Module):
    """BertModel + dropout + Linear(H, outputs): the one added layer of the classification-style heads."""

    HEADS = ("classifier",)

    def __init__(self, config: BertConfig, outputs: int):
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=self.POOLER)
        self.dropout = _classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, outputs)
        init_bert_weights(self.classifier, config.initializer_range)


class BertForSequenceClassification(_OneLayer):
    """Pooled [CLS] -> dropout -> Linear(H, num_labels): single texts, pairs, and regression (num_labels 1)."""

    POOLER = True

    def __init__(self, config: BertConfig):
        super().__init__(config, num_labels(config))

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                output_hidden_states: bool = False) -> ClassifierOutput:
        """Inputs (B, L) as for :meth:`BertModel.forward`; logits (B, num_labels)."""
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        return ClassifierOutput(self.classifier(self.dropout(enc.pooler_output)), enc.hidden_states)


class BertForTokenClassification(_OneLayer):
    """Every token's hidden state -> dropout -> Linear(H, num_labels) (NER); no pooler, as HF."""

    POOLER = False

    def __init__(self, config: BertConfig):
        super().__init__(config, num_labels(config))

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                output_hidden_states: bool = False) -> ClassifierOutput:
        """Inputs (B, L); logits (B, L, num_labels)."""
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        return ClassifierOutput(self.classifier(self.dropout(enc.last_hidden_state)), enc.hidden_states)


class BertForQuestionAnswering(nn.Module):
    """Every token's hidden state -> Linear(H, 2): start and end scores of the answer span; no pooler, no
    dropout on the head, as HF."""

    HEADS = ("qa_outputs",)
    POOLER = False

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        init_bert_weights(self.qa_outputs, config.initializer_range)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                output_hidden_states: bool = False) -> SpanOutput:
        """Inputs (B, L); start_logits and end_logits (B, L)."""
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        start, end = self.qa_outputs(enc.last_hidden_state).unbind(-1)  # (B, L, 2) -> 2 x (B, L)
        return SpanOutput(start, end, enc.hidden_states)


class BertForMultipleChoice(_OneLayer):
    """Each (context, candidate) sequence's pooled [CLS] -> dropout -> Linear(H, 1); softmax over candidates."""

    POOLER = True

    def __init__(self, config: BertConfig):
        super().__init__(config, 1)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                output_hidden_states: bool = False) -> ClassifierOutput:
        """input_ids, attention_mask, token_type_ids: (B, C, L), C candidates each; logits (B, C)."""
        B, C, L = input_ids.shape
        flat = lambda t: t.reshape(B * C, L) if t is not None else None  # (B, C, L) -> (B*C, L)
        enc = self.bert(flat(input_ids), flat(attention_mask), flat(token_type_ids),
                        output_hidden_states=output_hidden_states)
        scores = self.classifier(self.dropout(enc.pooler_output))  # (B*C, 1)
        return ClassifierOutput(scores.view(B, C), enc.hidden_states)
