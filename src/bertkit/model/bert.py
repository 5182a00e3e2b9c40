"""The BERT encoder: embeddings, self-attention, post-LN layers, pooler (Devlin et al. 2018, section 3;
Vaswani et al. 2017). Numerically the same as Hugging Face ``BertModel`` (checked by tests/parity).

Shapes: B batch, L sequence length, T real tokens, H hidden size. Layers and the feed-forward block work on
any leading shape and attention is one function given a metadata object (attention.py, padding.py), so the same
layers run a padded batch (B, L, H) or its real tokens packed into (T, H).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.config import PACKING, BertConfig
from bertkit.model.attention import AttentionMeta, attention, choose_route
from bertkit.model.dropout import Dropout
from bertkit.model.init import init_bert_weights
from bertkit.model.outputs import EncoderOutput
from bertkit.model.padding import Packed, Padded, mask_to_bias

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "gelu": F.gelu,  # exact (erf) GELU, as in the original BERT
    "gelu_python": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_fast": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}


class BertEmbeddings(nn.Module):
    """word + position + token-type embeddings, summed, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig):
        super().__init__()
        # Tables made empty (init_bert_weights draws them): torch's own N(0, 1) draw is wasted work, and on the
        # meta device (loading) its normal_ alone imported torch._dynamo, seconds of a command's start-up.
        table = lambda rows: torch.empty(rows, config.hidden_size)  # noqa: E731
        self.word = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id,
                                 _weight=table(config.vocab_size))
        self.position = nn.Embedding(config.max_position_embeddings, config.hidden_size,
                                     _weight=table(config.max_position_embeddings))
        self.token_type = nn.Embedding(config.type_vocab_size, config.hidden_size,
                                       _weight=table(config.type_vocab_size))
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor, position_ids: Tensor) -> Tensor:
        """All three (B, L) long (position_ids may be (1, L)); returns (B, L, H)."""
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(position_ids)
        return self.dropout(self.norm(x))


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate query/key/value projections and an output projection."""

    def __init__(self, config: BertConfig):
        super().__init__()
        H = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.out = nn.Linear(H, H)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: Tensor, meta: AttentionMeta) -> Tensor:
        """x: (B, L, H) padded or (T, H) packed, as ``meta`` says. Returns x's shape (before the residual)."""
        y = attention(self.query(x), self.key(x), self.value(x), meta, self.num_heads, self.dropout_p,
                      self.training)
        return self.out(y)


class FeedForward(nn.Module):
    """up-projection, activation, down-projection; any leading shape (..., H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)
        self.act = ACTIVATIONS[config.hidden_act]

    def forward(self, x: Tensor) -> Tensor:
        return self.down(self.act(self.up(x)))


class BertLayer(nn.Module):
    """Post-LN transformer layer: x = LN(x + drop(attn(x))); x = LN(x + drop(ffn(x)))."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attn = SelfAttention(config)
        self.attn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.ffn = FeedForward(config)
        self.ffn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, x: Tensor, meta: AttentionMeta) -> Tensor:
        """x: (B, L, H) or (T, H), as ``meta`` says; returns the same shape."""
        x = self.attn_norm(x + self.dropout(self.attn(x, meta)))
        return self.ffn_norm(x + self.dropout(self.ffn(x)))


class BertPooler(nn.Module):
    """tanh(dense(hidden at [CLS])): (B, L, H) -> (B, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    """The BERT encoder with an optional pooler; weights are BERT-initialised.

    ``packing`` says how a padded batch is run: ``"padded"`` as given (the reference), ``"auto"`` (default) packed
    where :func:`bertkit.model.attention.choose_route` measured that to be faster, or a route of
    :data:`bertkit.config.ATTENTION_ROUTES` whenever there is a mask. Packed, the real tokens are gathered once
    before the embeddings and scattered back once after the last layer; the outputs keep their padded shapes.
    """

    HEADS: tuple[str, ...] = ()  # head parameters a model class owns besides the encoder (see heads.py)
    POOLER = True

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        self.config = config
        self.packing = "auto"
        self.embeddings = BertEmbeddings(config)
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))
        self.pooler = BertPooler(config) if add_pooling_layer else None
        init_bert_weights(self, config.initializer_range)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> EncoderOutput:
        """Encode a padded batch.

        input_ids: (B, L) long; attention_mask: (B, L), 1 = token, 0 = pad, each row's tokens a prefix (None:
        no padding); token_type_ids: (B, L) long, default zeros; position_ids: (B, L) or (1, L) long, default
        0..L-1. Returns :class:`EncoderOutput`; with ``output_hidden_states`` its ``hidden_states`` holds the
        embeddings output and every layer's output (num_hidden_layers + 1 tensors (B, L, H)).
        """
        B, L = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if position_ids is None:
            position_ids = torch.arange(L, device=input_ids.device)[None, :]  # (1, L)
        route = self.route(attention_mask)
        if route is not None:  # packed: (B, L) -> (T,) before the embeddings, (T, H) -> (B, L, H) at the end
            meta = Packed.from_mask(attention_mask, route, self.embeddings.norm.weight.dtype)
            x = self.embeddings(meta.gather(input_ids), meta.gather(token_type_ids),
                                meta.gather(position_ids.expand(B, L)))
        else:
            x = self.embeddings(input_ids, token_type_ids, position_ids)
            meta = Padded(mask_to_bias(attention_mask, x.dtype))
        hidden = [x] if output_hidden_states else None
        for layer in self.layers:
            x = layer(x, meta)
            if hidden is not None:
                hidden.append(x)
        if isinstance(meta, Packed):
            x = meta.scatter(x)
            hidden = [meta.scatter(h) for h in hidden] if hidden is not None else None
        pooled = self.pooler(x) if self.pooler is not None else None
        return EncoderOutput(x, pooled, tuple(hidden) if hidden is not None else None)

    def route(self, attention_mask: Tensor | None) -> str | None:
        """The packed route :meth:`forward` takes for this (B, L) mask in the current mode, grad and autocast
        state, or None for the padded path."""
        if attention_mask is None or self.packing == "padded":
            return None
        if self.packing != "auto":
            return self.packing
        kind = attention_mask.device.type
        dtype = (torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind)
                 else self.embeddings.norm.weight.dtype)
        return choose_route(attention_mask, dtype, self.training and self.config.attention_probs_dropout_prob > 0)


def set_packing(model: nn.Module, mode: str) -> nn.Module:
    """Set ``packing`` (one of :data:`bertkit.config.PACKING`) on every :class:`BertModel` inside ``model``;
    returns ``model``."""
    if mode not in PACKING:
        raise ValueError(f"packing must be one of {', '.join(PACKING)}, not {mode!r}")
    for m in model.modules():
        if isinstance(m, BertModel):
            m.packing = mode
    return model
