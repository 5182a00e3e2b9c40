"""The BERT encoder: embeddings, self-attention, post-LN layers, pooler (Devlin et al. 2018, section 3;
Vaswani et al. 2017). Numerically the same as Hugging Face ``BertModel`` (checked by tests/parity).

Shapes: B batch, L sequence length, H hidden size, h heads, d = H / h. Layers and the feed-forward block work
on any leading shape, and attention is one function given a mask, so a later packed (unpadded, cu_seqlens)
path can swap only :func:`attention` and the reshapes around it (see padding.py).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.config import BertConfig
from bertkit.model.dropout import Dropout, training_attention
from bertkit.model.init import init_bert_weights
from bertkit.model.outputs import EncoderOutput

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
        self.word = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor, position_ids: Tensor) -> Tensor:
        """All three (B, L) long (position_ids may be (1, L)); returns (B, L, H)."""
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(position_ids)
        return self.dropout(self.norm(x))


def attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None, dropout_p: float, training: bool) -> Tensor:
    """Scaled dot-product attention, dropout on the probabilities in training. q, k, v: (B, h, L, d); bias:
    additive (B, 1, 1, L) or None. Returns (B, h, L, d). Training on CPU takes the written-out path of
    dropout.py (faster there, same float32 softmax); everything else PyTorch's fused kernels."""
    if training and q.device.type == "cpu":
        return training_attention(q, k, v, bias, dropout_p)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p if training else 0.0)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate query/key/value projections and an output projection."""

    def __init__(self, config: BertConfig):
        super().__init__()
        H = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.out = nn.Linear(H, H)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: Tensor, bias: Tensor | None) -> Tensor:
        """x: (B, L, H); bias: see :func:`attention`. Returns (B, L, H) (before the residual)."""
        B, L, H = x.shape
        split = lambda t: t.view(B, L, self.num_heads, H // self.num_heads).transpose(1, 2)  # (B, L, H) -> (B, h, L, d)
        y = attention(split(self.query(x)), split(self.key(x)), split(self.value(x)), bias, self.dropout_p,
                      self.training)
        return self.out(y.transpose(1, 2).reshape(B, L, H))  # (B, h, L, d) -> (B, L, H)


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

    def forward(self, x: Tensor, bias: Tensor | None) -> Tensor:
        """x: (B, L, H) -> (B, L, H)."""
        x = self.attn_norm(x + self.dropout(self.attn(x, bias)))
        return self.ffn_norm(x + self.dropout(self.ffn(x)))


class BertPooler(nn.Module):
    """tanh(dense(hidden at [CLS])): (B, L, H) -> (B, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.dense(x[:, 0]))


def mask_to_bias(attention_mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """(B, L) 1 = token, 0 = pad -> additive (B, 1, 1, L) bias (0 or the dtype's lowest value), or None.

    A finite lowest value instead of -inf keeps an all-pad row finite (uniform attention) rather than NaN.
    """
    if attention_mask is None:
        return None
    keep = attention_mask.bool()[:, None, None, :]  # (B, L) -> (B, 1, 1, L)
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, torch.finfo(dtype).min)


class BertModel(nn.Module):
    """The BERT encoder with an optional pooler; weights are BERT-initialised."""

    HEADS: tuple[str, ...] = ()  # head parameters a model class owns besides the encoder (see heads.py)
    POOLER = True

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        self.config = config
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

        input_ids: (B, L) long; attention_mask: (B, L), 1 = token, 0 = pad (None: no padding);
        token_type_ids: (B, L) long, default zeros; position_ids: (B, L) or (1, L) long, default 0..L-1.
        Returns :class:`EncoderOutput`; with ``output_hidden_states`` its ``hidden_states`` holds the
        embeddings output and every layer's output (num_hidden_layers + 1 tensors (B, L, H)).
        """
        B, L = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if position_ids is None:
            position_ids = torch.arange(L, device=input_ids.device)[None, :]  # (1, L)
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        bias = mask_to_bias(attention_mask, x.dtype)
        hidden = [x] if output_hidden_states else None
        for layer in self.layers:
            x = layer(x, bias)
            if hidden is not None:
                hidden.append(x)
        pooled = self.pooler(x) if self.pooler is not None else None
        return EncoderOutput(x, pooled, tuple(hidden) if hidden is not None else None)
