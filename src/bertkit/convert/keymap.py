"""The one table mapping bertkit parameter names to Hugging Face ``BertForPreTraining`` names.

Each row is ``(ours, theirs)``; ``{}`` stands for the layer index. Both directions (:func:`to_hf`,
:func:`from_hf`) are derived from :data:`KEYMAP`, and tests/unit/test_keymap.py checks that every parameter of
both models is covered exactly once. Names are "full" names, as a model with heads has them (``bert.`` in
front of encoder keys); :func:`strip_prefix` / :func:`add_prefix` move between those and a bare encoder.

Checkpoint spellings that are not in the table but are read: keys without the ``bert.`` prefix (HF
``BertModel`` checkpoints), LayerNorm ``gamma``/``beta`` (TF-converted checkpoints), and the tied
``cls.predictions.decoder.{weight,bias}`` copies (see hf.py).
"""

from __future__ import annotations

import re

KEYMAP: tuple[tuple[str, str], ...] = (
    # embeddings
    ("bert.embeddings.word.weight", "bert.embeddings.word_embeddings.weight"),
    ("bert.embeddings.position.weight", "bert.embeddings.position_embeddings.weight"),
    ("bert.embeddings.token_type.weight", "bert.embeddings.token_type_embeddings.weight"),
    ("bert.embeddings.norm.weight", "bert.embeddings.LayerNorm.weight"),
    ("bert.embeddings.norm.bias", "bert.embeddings.LayerNorm.bias"),
    # encoder layers
    ("bert.layers.{}.attn.query.weight", "bert.encoder.layer.{}.attention.self.query.weight"),
    ("bert.layers.{}.attn.query.bias", "bert.encoder.layer.{}.attention.self.query.bias"),
    ("bert.layers.{}.attn.key.weight", "bert.encoder.layer.{}.attention.self.key.weight"),
    ("bert.layers.{}.attn.key.bias", "bert.encoder.layer.{}.attention.self.key.bias"),
    ("bert.layers.{}.attn.value.weight", "bert.encoder.layer.{}.attention.self.value.weight"),
    ("bert.layers.{}.attn.value.bias", "bert.encoder.layer.{}.attention.self.value.bias"),
    ("bert.layers.{}.attn.out.weight", "bert.encoder.layer.{}.attention.output.dense.weight"),
    ("bert.layers.{}.attn.out.bias", "bert.encoder.layer.{}.attention.output.dense.bias"),
    ("bert.layers.{}.attn_norm.weight", "bert.encoder.layer.{}.attention.output.LayerNorm.weight"),
    ("bert.layers.{}.attn_norm.bias", "bert.encoder.layer.{}.attention.output.LayerNorm.bias"),
    ("bert.layers.{}.ffn.up.weight", "bert.encoder.layer.{}.intermediate.dense.weight"),
    ("bert.layers.{}.ffn.up.bias", "bert.encoder.layer.{}.intermediate.dense.bias"),
    ("bert.layers.{}.ffn.down.weight", "bert.encoder.layer.{}.output.dense.weight"),
    ("bert.layers.{}.ffn.down.bias", "bert.encoder.layer.{}.output.dense.bias"),
    ("bert.layers.{}.ffn_norm.weight", "bert.encoder.layer.{}.output.LayerNorm.weight"),
    ("bert.layers.{}.ffn_norm.bias", "bert.encoder.layer.{}.output.LayerNorm.bias"),
    # pooler
    ("bert.pooler.dense.weight", "bert.pooler.dense.weight"),
    ("bert.pooler.dense.bias", "bert.pooler.dense.bias"),
    # MLM head (its decoder weight is the word embedding, so it has no row of its own)
    ("mlm.transform.weight", "cls.predictions.transform.dense.weight"),
    ("mlm.transform.bias", "cls.predictions.transform.dense.bias"),
    ("mlm.norm.weight", "cls.predictions.transform.LayerNorm.weight"),
    ("mlm.norm.bias", "cls.predictions.transform.LayerNorm.bias"),
    ("mlm.bias", "cls.predictions.bias"),
    # NSP head
    ("nsp.weight", "cls.seq_relationship.weight"),
    ("nsp.bias", "cls.seq_relationship.bias"),
)

ENCODER_PREFIX = "bert."


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace(r"\{\}", r"(\d+)") + "$")


_OURS = [(_compile(o), t) for o, t in KEYMAP]
_THEIRS = [(_compile(t), o) for o, t in KEYMAP]


def _translate(key: str, table: list[tuple[re.Pattern[str], str]]) -> str | None:
    for pattern, target in table:
        m = pattern.match(key)
        if m:
            return target.format(*m.groups())
    return None


def to_hf(key: str) -> str | None:
    """Our full name -> the Hugging Face name, or None if the table has no row for it."""
    return _translate(key, _OURS)


def from_hf(key: str) -> str | None:
    """A Hugging Face full name -> ours, or None if the table has no row for it."""
    return _translate(key, _THEIRS)


def expand(num_layers: int, *, side: str) -> list[str]:
    """Every full name of a model with both heads on one side ("ours" or "theirs"), layers expanded."""
    col = {"ours": 0, "theirs": 1}[side]
    out = []
    for row in KEYMAP:
        t = row[col]
        out.extend(t.format(i) for i in range(num_layers)) if "{}" in t else out.append(t)
    return out


def is_head_key(full_key: str) -> bool:
    """Whether a full name (either side) belongs to a pretraining head rather than the encoder."""
    return not full_key.startswith(ENCODER_PREFIX)


def add_prefix(key: str) -> str:
    """A bare-encoder name (``embeddings...``) -> the full name (``bert.embeddings...``)."""
    return ENCODER_PREFIX + key


def strip_prefix(key: str) -> str:
    """A full encoder name -> the bare-encoder name."""
    return key[len(ENCODER_PREFIX):] if key.startswith(ENCODER_PREFIX) else key
