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
