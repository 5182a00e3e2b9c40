"""BERT weight initialisation, as in Google's BERT and Hugging Face ``BertPreTrainedModel._init_weights``:
Linear and Embedding weights ~ N(0, initializer_range), biases zero, LayerNorm weight one and bias zero,
the embedding row at ``padding_idx`` zero."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def init_bert_weights(module: nn.Module, initializer_range: float) -> None:
    """Initialise ``module`` and all its submodules in place; nothing on the meta device (a model built there
    for loading gets every weight from the file, and ``normal_`` on meta tensors imports torch._dynamo)."""
    if any(p.is_meta for p in module.parameters()):
        return
    for m in module.modules():
        if isinstance(m, nn.Linear):
            m.weight.normal_(0.0, initializer_range)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.Embedding):
            m.weight.normal_(0.0, initializer_range)
            if m.padding_idx is not None:
                m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            m.weight.fill_(1.0)
            m.bias.zero_()
        # Output biases that are bare Parameters (the MLM decoder bias) are created as zeros by their owner.
