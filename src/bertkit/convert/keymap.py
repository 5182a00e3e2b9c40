"""The one table mapping bertkit parameter names to Hugging Face names, for the encoder and every head.

Each row is ``(ours, theirs)``; ``{}`` stands for the layer index. Both directions (:func:`to_hf`,
:func:`from_hf`) are derived from :data:`KEYMAP`, and tests/unit/test_keymap.py checks that every parameter of
each model class is covered exactly once. A name's first component says which part it belongs to
(:func:`part_of`: ``bert`` for the encoder, else the head: ``mlm``, ``nsp``, ``classifier``, ``qa_outputs``);
the loader reads heads from that, not from hard-coded prefixes. Names are "full" names, as a model with heads has them (``bert.`` in
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
    # fine-tuning heads: one layer each (sequence / token classification and multiple choice share the name)
    ("classifier.weight", "classifier.weight"),
    ("classifier.bias", "classifier.bias"),
    ("qa_outputs.weight", "qa_outputs.weight"),
    ("qa_outputs.bias", "qa_outputs.bias"),
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


def expand(num_layers: int, *, side: str, parts: tuple[str, ...] | None = None) -> list[str]:
    """Every full name on one side ("ours" or "theirs"), layers expanded: the encoder and the heads in ``parts``
    (None: every head in the table)."""
    col = {"ours": 0, "theirs": 1}[side]
    out = []
    for row in KEYMAP:
        part = part_of(row[0])
        if part != ENCODER_PART and parts is not None and part not in parts:
            continue
        t = row[col]
        out.extend(t.format(i) for i in range(num_layers)) if "{}" in t else out.append(t)
    return out


ENCODER_PART = "bert"


def part_of(our_key: str) -> str:
    """The part a full name of ours belongs to: ``bert`` (the encoder) or a head's name (``mlm``, ...)."""
    return our_key.split(".", 1)[0]


HEAD_PARTS: tuple[str, ...] = tuple(dict.fromkeys(part_of(o) for o, _ in KEYMAP if part_of(o) != ENCODER_PART))


def heads_in(hf_keys) -> tuple[str, ...]:
    """The heads (in table order) that have at least one key among Hugging Face full names ``hf_keys``."""
    found = {part_of(o) for o in map(from_hf, hf_keys) if o is not None}
    return tuple(h for h in HEAD_PARTS if h in found)


def is_head_key(full_key: str) -> bool:
    """Whether a full name (either side) belongs to a head rather than the encoder."""
    return not full_key.startswith(ENCODER_PREFIX)


def add_prefix(key: str) -> str:
    """A bare-encoder name (``embeddings...``) -> the full name (``bert.embeddings...``)."""
    return ENCODER_PREFIX + key


def strip_prefix(key: str) -> str:
    """A full encoder name -> the bare-encoder name."""
    return key[len(ENCODER_PREFIX):] if key.startswith(ENCODER_PREFIX) else key
