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
        check_field_types(self, "config")
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
        check_known_keys(d, names | IGNORED_HF_KEYS | set(REQUIRED_HF_VALUES), source)
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


def check_known_keys(d: dict[str, Any], allowed: set[str] | frozenset[str], source: str, prefix: str = "") -> None:
    """Raise BertkitError naming every key of ``d`` not in ``allowed`` (as ``prefix + key``)."""
    unknown = sorted(str(k) for k in d if k not in allowed)
    if unknown:
        raise BertkitError(f"{source}: unknown config key(s): {', '.join(prefix + k for k in unknown)}")


def check_field_types(obj: Any, source: str) -> None:
    """Check each field of the dataclass instance ``obj`` against its annotation; raise naming the field."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        if not _type_ok(getattr(obj, f.name), hints[f.name]):
            raise BertkitError(f"{source}: {f.name}={getattr(obj, f.name)!r} should be of type "
                               f"{_type_name(hints[f.name])}")


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
    if origin is list:
        (et,) = typing.get_args(hint)
        return isinstance(value, list) and all(_type_ok(v, et) for v in value)
    if origin is dict:
        kt, vt = typing.get_args(hint)
        return isinstance(value, dict) and all(_type_ok(k, kt) and _type_ok(v, vt) for k, v in value.items())
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "") if typing.get_origin(hint) else getattr(hint, "__name__", str(hint))


# ---- run configs (YAML: sections model / data / train) ----------------------------------------------------------
# Validated as strictly as BertConfig, with the same helpers: an unknown key is an error naming section.key.


@dataclass
class DataConfig:
    """How pretraining instances are made (Devlin et al. 2018, appendix A.1; Google's create_pretraining_data)."""

    max_seq_length: int = 128
    mlm_probability: float = 0.15
    max_predictions: int | None = None  # masked tokens per sequence at most; None = ceil(max_seq_length * p)
    nsp: bool = True  # False: the RoBERTa recipe (full-length segments across sentences and documents, no NSP)
    short_seq_prob: float = 0.1
    whole_word_mask: bool = False
    eval_documents: int = 100  # held out of training: the store's last documents
    eval_instances: int = 1000  # at most this many held-out instances are evaluated
    shuffle_documents: int = 1024  # documents whose instances are shuffled together (a block)

    def validate(self, source: str = "data") -> None:
        check_field_types(self, source)
        if self.max_seq_length < 8:
            raise BertkitError(f"{source}: max_seq_length={self.max_seq_length} must be at least 8")
        if not 0.0 < self.mlm_probability < 1.0:
            raise BertkitError(f"{source}: mlm_probability={self.mlm_probability} must be in (0, 1)")
        if not 0.0 <= self.short_seq_prob <= 1.0:
            raise BertkitError(f"{source}: short_seq_prob={self.short_seq_prob} must be in [0, 1]")
        for name in ("eval_documents", "eval_instances"):
            if getattr(self, name) < 0:
                raise BertkitError(f"{source}: {name} must be >= 0")
        for name in ("max_predictions", "shuffle_documents"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise BertkitError(f"{source}: {name}={v} must be >= 1")


DTYPES = ("auto", "float32", "bfloat16", "float16")
# How the encoder meets padding (bertkit.model.attention): as given ("padded"), packed where measured faster
# ("auto"), or packed with one attention route whenever a batch has a mask.
ATTENTION_ROUTES = ("loop", "repad", "varlen")
PACKING = ("padded", "auto", *ATTENTION_ROUTES)
COMPILABLE_PACKING = ("auto", "padded")  # a compiled model runs padded (bertkit.model.compiled)


@dataclass
class TrainConfig:
    """The optimisation and bookkeeping of one run (the one loop in bertkit.train)."""

    max_steps: int | None = 10_000  # fine-tuning: None = train.epochs over the data; else a cap on the steps
    epochs: int | None = None  # fine-tuning: passes over the training file
    batch_size: int = 256  # global: sequences per optimizer step, over all processes and accumulation steps
    grad_accum: int = 1
    lr: float | None = None  # None: the model preset's default (see PRESET_LR)
    warmup_steps: int | None = None  # None: warmup_ratio * max_steps; never longer than the run
    warmup_ratio: float = 0.05
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-6
    dtype: str = "auto"  # auto: bfloat16 on GPUs and on CPUs with native bf16, else float32
    device: str = "auto"
    seed: int = 0
    log_every: int = 10
    eval_every: int | None = None  # None: about 10 evaluations per run
    save_every: int | None = None  # None: only at the end
    keep_checkpoints: int = 3
    reuse_freed_memory: bool = True  # glibc keeps freed memory while training (utils/malloc.py); false: its defaults
    packing: str = "auto"  # one of PACKING: the encoder on the real tokens only where that measured faster
    compile: bool = False  # torch.compile the training steps (inductor; runs padded: bertkit.model.compiled)

    def validate(self, source: str = "train") -> None:
        check_field_types(self, source)
        if self.max_steps is None and self.epochs is None:
            raise BertkitError(f"{source}: set max_steps or epochs")
        for name in ("max_steps", "epochs", "batch_size", "grad_accum", "log_every", "keep_checkpoints"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise BertkitError(f"{source}: {name}={getattr(self, name)} must be >= 1")
        for name in ("eval_every", "save_every"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise BertkitError(f"{source}: {name}={v} must be >= 1")
        if self.lr is not None and self.lr <= 0:
            raise BertkitError(f"{source}: lr={self.lr} must be > 0")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise BertkitError(f"{source}: warmup_steps must be >= 0")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise BertkitError(f"{source}: warmup_ratio={self.warmup_ratio} must be in [0, 1]")
        if self.dtype not in DTYPES:
            raise BertkitError(f"{source}: dtype={self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.packing not in PACKING:
            raise BertkitError(f"{source}: packing={self.packing!r} is not one of {', '.join(PACKING)}")
        if self.compile and self.packing not in COMPILABLE_PACKING:
            raise BertkitError(f"{source}: compile=true runs the padded encoder; packing={self.packing} cannot be "
                               f"compiled (use packing={' or '.join(COMPILABLE_PACKING)})")
        if self.batch_size % self.grad_accum:
            raise BertkitError(f"{source}: batch_size={self.batch_size} is not divisible by grad_accum="
                               f"{self.grad_accum}")


@dataclass
class TaskDataConfig:
    """How task files become model inputs, for fine-tuning, evaluation and prediction (``data`` section)."""

    max_seq_length: int | None = None  # None: the task's default (128; qa 384)
    doc_stride: int = 128  # qa: tokens of overlap between the windows of a long context
    max_query_length: int = 64  # qa: question tokens kept
    max_answer_length: int = 30  # qa: longest answer span decoded, in tokens
    n_best: int = 20  # qa: start and end candidates per window
    text_columns: list[str] | None = None  # None: found by common names (see bertkit.data.tasks.table)
    label_column: str | None = None
    train_limit: int | None = None  # read only the first N training records (a documented subset)
    dev_limit: int | None = None
    # training batches of similar lengths (less padding), or false: random batches; None: the task's default
    # (grouped, but random for ner, where grouping cost entity F1 on CoNLL-2003: BENCHMARKS.md)
    group_by_length: bool | None = None

    def validate(self, source: str = "data") -> None:
        check_field_types(self, source)
        if self.max_seq_length is not None and self.max_seq_length < 8:
            raise BertkitError(f"{source}: max_seq_length={self.max_seq_length} must be at least 8")
        for name in ("doc_stride", "max_query_length", "max_answer_length", "n_best", "train_limit", "dev_limit"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise BertkitError(f"{source}: {name}={v} must be >= 1")
        if self.text_columns is not None and not 1 <= len(self.text_columns) <= 2:
            raise BertkitError(f"{source}: text_columns takes one or two column names")


# Peak learning rates that work for each size at the default batch (smaller models take larger steps).
PRESET_LR = {"tiny": 1e-3, "mini": 1e-3, "small": 5e-4, "medium": 3e-4, "base": 1e-4, "large": 5e-5}

# BERT's fine-tuning recipe (Devlin et al. 2018, section 4 and appendix A.3; Hugging Face's examples).
FINETUNE_TRAIN = dict(max_steps=None, epochs=3, batch_size=32, lr=2e-5, warmup_ratio=0.1, weight_decay=0.01,
                      adam_epsilon=1e-6, max_grad_norm=1.0, log_every=10)


@dataclass
class RunConfig:
    """A pretraining run: ``model`` (a preset name and/or BertConfig fields), ``data``, ``train``."""

    model: dict[str, Any] = dataclasses.field(default_factory=lambda: {"preset": "mini"})
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    SECTIONS: typing.ClassVar[dict[str, type]] = {"data": DataConfig, "train": TrainConfig}
    DEFAULTS: typing.ClassVar[dict[str, dict[str, Any]]] = {}  # per section, on top of the dataclass defaults
    DEFAULT_MODEL: typing.ClassVar[dict[str, Any]] = {"preset": "mini"}

    @classmethod
    def from_dict(cls, d: Any, *, source: str = "run config") -> "RunConfig":
        """Strict: unknown sections or keys, wrong types and bad values raise BertkitError naming them."""
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise BertkitError(f"{source}: expected a mapping with sections model, data, train")
        check_known_keys(d, {"model", *cls.SECTIONS}, source)
        model = d.get("model", cls.DEFAULT_MODEL)
        if isinstance(model, str):
            model = {"preset": model}
        if not isinstance(model, dict):
            raise BertkitError(f"{source}: model must be a preset name or a mapping of BertConfig fields")
        model = dict(model)
        check_known_keys(model, {"preset", *(f.name for f in dataclasses.fields(BertConfig))}, source, "model.")
        if "vocab_size" in model:
            raise BertkitError(f"{source}: model.vocab_size is taken from the tokenizer; remove it")
        if model.get("preset") is not None and model["preset"] not in PRESETS:
            raise BertkitError(f"{source}: model.preset={model['preset']!r} is not one of {', '.join(PRESETS)}")
        sections = {}
        for name, kind in cls.SECTIONS.items():
            sec = d.get(name) or {}
            if not isinstance(sec, dict):
                raise BertkitError(f"{source}: {name} must be a mapping")
            check_known_keys(sec, {f.name for f in dataclasses.fields(kind)}, source, f"{name}.")
            obj = kind(**{**cls.DEFAULTS.get(name, {}), **sec})
            obj.validate(f"{source}: {name}")
            sections[name] = obj
        run = cls(model=model, **sections)
        run.bert_config(vocab_size=30522)  # the model fields must make a valid BertConfig
        return run

    @classmethod
    def default(cls) -> "RunConfig":
        return cls.from_dict({})

    def to_dict(self) -> dict[str, Any]:
        return {"model": dict(self.model), "data": dataclasses.asdict(self.data),
                "train": dataclasses.asdict(self.train)}

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> "RunConfig":
        import yaml

        p = Path(path)
        if not p.is_file():
            raise BertkitError(f"{p}: no such config file")
        try:
            d = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise BertkitError(f"{p}: malformed YAML{where}: {getattr(e, 'problem', None) or e}") from None
        except UnicodeDecodeError as e:
            raise BertkitError(f"{p}: not valid UTF-8 ({e.reason})") from None
        return cls.from_dict(d, source=str(p))

    def to_yaml_text(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def to_yaml(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self.to_yaml_text(), encoding="utf-8")

    def with_overrides(self, assignments: list[str]) -> "RunConfig":
        """Apply ``section.key=value`` strings (values parsed as YAML scalars: 0, 5e-4, true, null, mini)."""
        d = self.to_dict()
        for item in assignments:
            key, sep, text = item.partition("=")
            parts = key.strip().split(".")
            if not sep or len(parts) != 2 or not all(parts):
                raise BertkitError(f"--set {item!r}: expected section.key=value, e.g. train.lr=5e-4")
            section, name = parts
            if section not in d:
                raise BertkitError(f"--set {item!r}: unknown section {section!r} (one of {', '.join(d)})")
            d[section][name] = parse_scalar(text)
        return type(self).from_dict(d, source="--set")

    def bert_config(self, vocab_size: int) -> BertConfig:
        """The model's BertConfig: the preset (if any) with the given fields on top, and ``vocab_size``."""
        fields = {k: v for k, v in self.model.items() if k != "preset"}
        preset = self.model.get("preset")
        try:
            if preset is not None:
                return BertConfig.preset(preset, **fields, vocab_size=vocab_size)
            return BertConfig.from_dict({**fields, "vocab_size": vocab_size}, source="model")
        except BertkitError as e:
            raise BertkitError(f"model: {str(e).split(': ', 1)[-1]}") from None

    def resolved_lr(self) -> float:
        if self.train.lr is not None:
            return self.train.lr
        return PRESET_LR.get(self.model.get("preset") or "", 1e-4)


@dataclass
class FinetuneConfig(RunConfig):
    """A fine-tuning run: ``model`` (BertConfig fields to change, e.g. classifier_dropout), ``data``
    (TaskDataConfig), ``train`` (TrainConfig with BERT's fine-tuning defaults, :data:`FINETUNE_TRAIN`)."""

    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    data: TaskDataConfig = dataclasses.field(default_factory=TaskDataConfig)
    train: TrainConfig = dataclasses.field(default_factory=lambda: TrainConfig(**FINETUNE_TRAIN))

    SECTIONS: typing.ClassVar[dict[str, type]] = {"data": TaskDataConfig, "train": TrainConfig}
    DEFAULTS: typing.ClassVar[dict[str, dict[str, Any]]] = {"train": FINETUNE_TRAIN}
    DEFAULT_MODEL: typing.ClassVar[dict[str, Any]] = {}


def parse_scalar(text: str) -> Any:
    """A ``--set`` value: YAML scalar rules, plus floats such as ``5e-4`` that YAML 1.1 leaves as strings."""
    import yaml

    text = text.strip()
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
