"""The feature-based use of BERT (paper §5.3): contextual token features from any layer, pooled sentence
embeddings (``mean`` over real tokens as in Sentence-BERT, or the ``cls`` vector), optionally L2-normalised.

Texts are encoded in windows: each window is sorted by length and cut into batches, so that little work is
spent on padding, and results are handed back with their original positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import torch

from bertkit.data.batch import Batch, pad_encodings
from bertkit.tokenizer import Tokenizer
from bertkit.utils.errors import BertkitError

POOLINGS = ("mean", "cls")


@dataclass(frozen=True)
class EmbedOptions:
    """How to turn texts into vectors (see :func:`embed_texts`)."""

    pooling: str = "mean"
    normalize: bool = False
    layer: int = -1  # index into (embeddings, layer 1, ..., layer N); -1 = last layer
    batch_size: int = 64
    max_length: int = 512
    window: int = 4096  # texts sorted by length together, bounding memory

    def check(self, num_layers: int) -> None:
        if self.pooling not in POOLINGS:
            raise BertkitError(f"--pooling must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")
        if not -(num_layers + 1) <= self.layer <= num_layers:
            raise BertkitError(
                f"--layer {self.layer} is out of range: the model has layers 0 (embeddings) to {num_layers}"
            )
        if self.batch_size < 1 or self.max_length < 2 or self.window < 1:
            raise BertkitError("--batch-size and the window must be >= 1, --max-length >= 2")


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Pool token vectors into one vector per sequence.

    Args:
        hidden: (B, L, H) token vectors.
        attention_mask: (B, L), 1 for real tokens (specials included), 0 for padding.
        pooling: ``mean`` (average of real tokens) or ``cls`` (the first token).
    Returns:
        (B, H) in float32.
    """
    hidden = hidden.float()
    if pooling == "cls":
        return hidden[:, 0]
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, L, 1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


@torch.inference_mode()
def embed_batch(model: torch.nn.Module, batch: Batch, opts: EmbedOptions) -> np.ndarray:
    """Embed one padded batch on the model's device; returns (B, H) float32 numpy."""
    want_layers = opts.layer != -1
    out = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        token_type_ids=batch.token_type_ids,
        output_hidden_states=want_layers,
    )
    hidden = out.hidden_states[opts.layer] if want_layers else out.last_hidden_state
    vec = pool(hidden, batch.attention_mask, opts.pooling)
    if opts.normalize:
        vec = torch.nn.functional.normalize(vec, p=2, dim=-1)
    return vec.cpu().numpy()


def embed_texts(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    texts: Iterable[str],
    opts: EmbedOptions,
    part: tuple[int, int] = (0, 1),
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Embed texts, yielding ``(positions (k,), vectors (k, H))`` blocks as they are ready.

    ``positions`` index into the input order (0-based over all texts); together the blocks cover every text
    exactly once. The model must be a BertModel (encoder); it is used in eval mode on its own device.
    part: (rank, world): embed only the windows ``i`` with ``i % world == rank`` (scale-out: each process of a
    group takes whole windows, so every batch, and so every vector, is the one a single process makes).
    """
    device = next(model.parameters()).device
    model.eval()
    rank, world = part
    start = 0
    for i, window in enumerate(_windows(texts, opts.window)):
        if i % world != rank:
            start += len(window)
            continue
        encs = tokenizer.encode_batch(window, max_length=opts.max_length, truncation=True)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].input_ids))
        for b in range(0, len(order), opts.batch_size):
            idx = order[b : b + opts.batch_size]
            batch = pad_encodings([encs[i] for i in idx], tokenizer.pad_token_id).to(device)
            vec = embed_batch(model, batch, opts)
            yield np.asarray(idx, dtype=np.int64) + start, vec
        start += len(window)


def _windows(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    window: list[str] = []
    for t in texts:
        window.append(t)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window
