"""Pretraining heads and the models that carry them (Devlin et al. 2018, section 3.1; HF
``BertPreTrainingHeads``).

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
from bertkit.model.init import init_bert_weights
from bertkit.model.outputs import MaskedLMOutput, PreTrainingOutput

IGNORE_INDEX = -100  # label value for positions that carry no MLM loss


class MLMHead(nn.Module):
    """dense + activation + LayerNorm, then logits = h @ word_embeddings.T + bias."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.transform = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = ACTIVATIONS[config.hidden_act]
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, x: Tensor, decoder_weight: Tensor) -> Tensor:
        """x: (..., H); decoder_weight: (V, H), the word embeddings. Returns (..., V)."""
        return F.linear(self.norm(self.act(self.transform(x))), decoder_weight, self.bias)


def mlm_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy over positions whose label is not -100. logits (B, L, V), labels (B, L)."""
    return F.cross_entropy(logits.flatten(0, -2).float(), labels.flatten(), ignore_index=IGNORE_INDEX)


class BertForPreTraining(nn.Module):
    """BertModel + MLM head + NSP head (Linear(H, 2) on the pooled output)."""

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
        labels: Tensor | None = None,
        next_sentence_label: Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> PreTrainingOutput:
        """input_ids, attention_mask, token_type_ids: (B, L) as for :meth:`BertModel.forward`;
        labels: (B, L) long, -100 = no loss; next_sentence_label: (B,) long, 0 = B follows A.
        ``loss`` is mlm_loss + nsp_loss (or whichever was asked for)."""
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        logits = self.mlm(enc.last_hidden_state, self.bert.embeddings.word.weight)
        nsp_logits = self.nsp(enc.pooler_output)
        l_mlm = mlm_loss(logits, labels) if labels is not None else None
        l_nsp = F.cross_entropy(nsp_logits.float(), next_sentence_label) if next_sentence_label is not None else None
        parts = [l for l in (l_mlm, l_nsp) if l is not None]
        loss = sum(parts[1:], parts[0]) if parts else None
        return PreTrainingOutput(logits, nsp_logits, loss, l_mlm, l_nsp, enc.hidden_states)


class BertForMaskedLM(nn.Module):
    """BertModel + MLM head only; like HF's, built without a pooler unless asked."""

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
        labels: Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> MaskedLMOutput:
        """Inputs as for :meth:`BertForPreTraining.forward`; returns logits (B, L, V) and the MLM loss."""
        enc = self.bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states)
        logits = self.mlm(enc.last_hidden_state, self.bert.embeddings.word.weight)
        return MaskedLMOutput(logits, mlm_loss(logits, labels) if labels is not None else None, enc.hidden_states)
