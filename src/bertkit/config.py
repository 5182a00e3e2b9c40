"""BertConfig: the model's shape in Hugging Face ``config.json`` vocabulary, with validation and presets.

Field names and defaults are those of ``transformers.BertConfig`` (bert-base-uncased), so a ``config.json``
written by Hugging Face loads here and one written here loads there. ``from_dict`` is strict: a key that is
neither a field nor one of the generic ``PretrainedConfig`` keys listed in :data:`IGNORED_HF_KEYS` is an
error, and so is a setting this encoder-only, absolute-position model cannot honour (a decoder, cross
attention, relative positions, untied output embeddings).

Presets follow the BERT paper and Turc et al. 2019 ("Well-Read Students Learn Better", the 24 small BERTs):
intermediate size is 4 x hidden, vocab 30522.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bertkit.utils.errors import BertkitError

# Activation names understood by the model (bertkit.model.bert.ACTIVATIONS has one function per name).
SUPPORTED_ACTIVATIONS = (
    "gelu", "gelu_python", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "relu", "silu", "swish", "tanh",
)

# Generic PretrainedConfig keys found in real config.json files that carry nothing this model uses: accepted
# and dropped. (id2label / label2id / problem_type are fields, kept for a round trip.)
IGNORED_HF_KEYS = frozenset({
    "architectures", "model_type", "transformers_version", "_name_or_path", "name_or_path", "torch_dtype", "dtype",
    "use_cache", "gradient_checkpointing", "bos_token_id", "eos_token_id", "sep_token_id", "decoder_start_token_id",
    "output_past", "return_dict", "output_hidden_states", "output_attentions", "torchscript", "chunk_size_feed_forward",
    "finetuning_task", "tokenizer_class", "prefix", "task_specific_params", "num_labels", "_commit_hash",
    "_attn_implementation", "attn_implementation", "use_bfloat16", "tf_legacy_loss", "directionality",
    "pooler_fc_size", "pooler_num_attention_heads", "pooler_num_fc_layers", "pooler_size_per_head", "pooler_type",
    # generation settings that old configs carry for every model
    "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty",
    "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
    "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
    "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens",
})

# Generic keys whose value must be the one given here: anything else asks for a model bertkit does not build.
REQUIRED_HF_VALUES: dict[str, Any] = {
    "is_decoder": False,
    "add_cross_attention": False,
    "is_encoder_decoder": False,
    "tie_word_embeddings": True,
    "pruned_heads": {},
    "cross_attention_hidden_size": None,
    "tie_encoder_decoder": False,
}


@dataclass
class BertConfig:
    """The shape of a BERT model; field names are those of Hugging Face ``config.json``."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 0
    position_embedding_type: str = "absolute"
    classifier_dropout: float | None = None
    id2label: dict[int, str] | None = None
    label2id: dict[str, int] | None = None
    problem_type: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    # ---- validation -------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Check types and consistency; raise BertkitError naming the offending field."""
        hints = typing.get_type_hints(BertConfig)
        for f in dataclasses.fields(self):
            if not _type_ok(getattr(self, f.name), hints[f.name]):
                raise BertkitError(f"config: {f.name}={getattr(self, f.name)!r} should be of type "
                                   f"{_type_name(hints[f.name])}")
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "max_position_embeddings", "type_vocab_size"):
            if getattr(self, name) < 1:
                raise BertkitError(f"config: {name}={getattr(self, name)} must be at least 1")
        if self.hidden_size % self.num_attention_heads:
            raise BertkitError(f"config: hidden_size={self.hidden_size} is not divisible by "
                               f"num_attention_heads={self.num_attention_heads}")
        if self.hidden_act not in SUPPORTED_ACTIVATIONS:
            raise BertkitError(f"config: hidden_act={self.hidden_act!r} is not supported "
                               f"(one of {', '.join(SUPPORTED_ACTIVATIONS)})")
        if self.position_embedding_type != "absolute":
            raise BertkitError(f"config: position_embedding_type={self.position_embedding_type!r} is not supported; "
                               "bertkit builds absolute-position BERT only")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"):
            p = getattr(self, name)
            if p is not None and not 0.0 <= p < 1.0:
                raise BertkitError(f"config: {name}={p} must be in [0, 1)")
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise BertkitError(f"config: pad_token_id={self.pad_token_id} is outside the vocabulary "
                               f"(vocab_size={self.vocab_size})")
        if self.layer_norm_eps <= 0 or self.initializer_range < 0:
            raise BertkitError("config: layer_norm_eps must be > 0 and initializer_range >= 0")

    # ---- dict / JSON ------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "config") -> "BertConfig":
        """Build a config from a ``config.json``-style dict; ``source`` names the file in error messages.

        Unknown keys and generic keys with unsupported values raise BertkitError naming them.
        """
        if not isinstance(d, dict):
            raise BertkitError(f"{source}: expected a JSON object, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(k for k in d if k not in names and k not in IGNORED_HF_KEYS and k not in REQUIRED_HF_VALUES)
        if unknown:
            raise BertkitError(f"{source}: unknown config key(s): {', '.join(unknown)}")
        for key, want in REQUIRED_HF_VALUES.items():
            if key in d and d[key] != want and not (want == {} and d[key] is None):
                raise BertkitError(f"{source}: {key}={d[key]!r} is not supported "
                                   f"(bertkit needs {want!r}: encoder-only BERT)")
        if d.get("model_type", "bert") != "bert":
            raise BertkitError(f"{source}: model_type={d['model_type']!r}, expected 'bert'")
        kwargs = {k: v for k, v in d.items() if k in names}
        if isinstance(kwargs.get("id2label"), dict):
            try:  # JSON object keys are strings
                kwargs["id2label"] = {int(k): v for k, v in kwargs["id2label"].items()}
            except (TypeError, ValueError):
                raise BertkitError(f"{source}: id2label keys must be integers") from None
        try:
            return cls(**kwargs)
        except BertkitError as e:
            raise BertkitError(str(e).replace("config:", f"{source}:", 1)) from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in ``config.json`` form (``model_type`` included); inverse of :meth:`from_dict`."""
        d = dataclasses.asdict(self)
        if d["id2label"] is not None:
            d["id2label"] = {str(k): v for k, v in d["id2label"].items()}
        d["model_type"] = "bert"
        return d

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "BertConfig":
        """Read a ``config.json``; malformed JSON raises BertkitError with the line and column."""
        p = Path(path)
        if not p.is_file():
            raise BertkitError(f"{p}: no such file")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise BertkitError(f"{p}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
        except UnicodeDecodeError as e:
            raise BertkitError(f"{p}: not valid UTF-8 ({e.reason})") from None
        return cls.from_dict(d, source=str(p))

    def to_json_file(self, path: str | os.PathLike, **extra: Any) -> None:
        """Write this config as ``config.json`` (sorted keys, 2-space indent); ``extra`` keys are added."""
        text = json.dumps({**self.to_dict(), **extra}, indent=2, sort_keys=True) + "\n"
        Path(path).write_text(text, encoding="utf-8")

    # ---- presets ----------------------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "BertConfig":
        """A named size (tiny, mini, small, medium, base, large) with intermediate = 4 x hidden; ``overrides``
        replace any field."""
        if name not in PRESETS:
            raise BertkitError(f"unknown model preset {name!r} (one of {', '.join(PRESETS)})")
        layers, hidden, heads = PRESETS[name]
        base = dict(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                    intermediate_size=4 * hidden)
        return cls.from_dict({**base, **overrides}, source=f"preset {name}")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


# name -> (num_hidden_layers, hidden_size, num_attention_heads)
PRESETS: dict[str, tuple[int, int, int]] = {
    "tiny": (2, 128, 2),
    "mini": (4, 256, 4),
    "small": (4, 512, 8),
    "medium": (8, 512, 8),
    "base": (12, 768, 12),
    "large": (24, 1024, 16),
}


def _type_ok(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the annotation (int is not bool; a float field takes an int, as HF allows)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is dict:
        kt, vt = typing.get_args(hint)
        return isinstance(value, dict) and all(_type_ok(k, kt) and _type_ok(v, vt) for k, v in value.items())
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "") if typing.get_origin(hint) else getattr(hint, "__name__", str(hint))
