"""Hugging Face checkpoint directories, both ways: ``config.json`` + ``model.safetensors`` (or sharded
safetensors, or ``pytorch_model.bin`` read with ``weights_only=True``) + ``vocab.txt``/``tokenizer_config.json``.

Loading is strict: every parameter of the model must come from the file, and every tensor in the file must
land in the model, be one of the known-ignorable extras (``position_ids``/``token_type_ids`` buffers, the tied
``cls.predictions.decoder`` copies), or belong to a head the requested model does not have (dropped and
reported). Anything else is a BertkitError listing the keys; a shape mismatch names the key and both shapes.
Writing produces what ``transformers`` 5 writes itself, so ``from_pretrained`` reports no missing or unexpected
keys (the tied decoder weight is left out, as transformers does).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from bertkit.config import BertConfig
from bertkit.convert import keymap
from bertkit.model import (
    MODEL_CLASSES,
    BertForMaskedLM,
    BertForPreTraining,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertModel,
)
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_dir

log = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
SAFETENSORS_NAME = "model.safetensors"
SAFETENSORS_INDEX_NAME = "model.safetensors.index.json"
BIN_NAME = "pytorch_model.bin"
VOCAB_NAME = "vocab.txt"

_DECODER_WEIGHT = "cls.predictions.decoder.weight"  # tied copy of the word embeddings in older checkpoints
_DECODER_BIAS = "cls.predictions.decoder.bias"  # tied copy of cls.predictions.bias
_ST_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32"}


@dataclass
class LoadReport:
    """What :func:`load_weights` did besides loading: keys dropped (heads the model lacks) or ignored."""

    dropped: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    initialised: list[str] = field(default_factory=list)  # new parameters (a head added for fine-tuning)


# ---- reading ------------------------------------------------------------------------------------------------


def _check_dir(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise BertkitError(f"{p}: no such checkpoint directory")
    if not p.is_dir():
        raise BertkitError(f"{p}: not a directory (expected a checkpoint directory with config.json)")
    if not (p / CONFIG_NAME).is_file():
        raise BertkitError(f"{p}: no {CONFIG_NAME} in checkpoint directory")
    return p


def _weights_files(p: Path) -> list[Path]:
    if (p / SAFETENSORS_NAME).is_file():
        return [p / SAFETENSORS_NAME]
    if (p / SAFETENSORS_INDEX_NAME).is_file():
        try:
            weight_map = json.loads((p / SAFETENSORS_INDEX_NAME).read_text(encoding="utf-8"))["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise BertkitError(f"{p / SAFETENSORS_INDEX_NAME}: malformed index ({e})") from None
        return [p / name for name in sorted(set(weight_map.values()))]
    if (p / BIN_NAME).is_file():
        return [p / BIN_NAME]
    raise BertkitError(f"{p}: no weights file ({SAFETENSORS_NAME}, {SAFETENSORS_INDEX_NAME} or {BIN_NAME})")


def read_state_dict(path: str | os.PathLike) -> tuple[dict[str, Tensor], str]:
    """All tensors of a checkpoint directory under their file names; returns (tensors, weights file name)."""
    files = _weights_files(Path(path))
    state: dict[str, Tensor] = {}
    for f in files:
        try:
            if f.name.endswith(".bin"):
                part = torch.load(f, map_location="cpu", weights_only=True)
                if not isinstance(part, dict) or not all(isinstance(v, Tensor) for v in part.values()):
                    raise BertkitError(f"{f}: expected a state dict of tensors")
            else:
                part = load_file(f)
        except (SafetensorError, OSError, RuntimeError, EOFError, ValueError) as e:
            raise BertkitError(f"{f}: cannot read weights ({_first_line(e)})") from None
        state.update(part)
    return state, files[0].name if len(files) == 1 else SAFETENSORS_INDEX_NAME


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DDP and torch.compile wrappers, in state dicts saved from them


# First components of Hugging Face full names (``bert``, ``cls``, ``classifier``, ``qa_outputs``): any other key
# is a bare encoder key, to which ``bert.`` is added.
_TOP_LEVEL = frozenset(t.split(".", 1)[0] for _, t in keymap.KEYMAP)


def _normalise(key: str) -> str:
    """A checkpoint key -> HF full name: wrapper prefixes dropped, legacy gamma/beta renamed, ``bert.`` added
    to bare encoder keys."""
    while key.startswith(_WRAPPER_PREFIXES):
        key = key.split(".", 1)[1]
    if key.endswith("LayerNorm.gamma"):
        key = key[: -len("gamma")] + "weight"
    elif key.endswith("LayerNorm.beta"):
        key = key[: -len("beta")] + "bias"
    if key.split(".", 1)[0] not in _TOP_LEVEL:
        key = keymap.add_prefix(key)
    return key


def _is_buffer(full_key: str) -> bool:
    return full_key.endswith("embeddings.position_ids") or full_key.endswith("embeddings.token_type_ids")


def _heads_of(full_keys) -> tuple[tuple[str, ...], bool]:
    """(heads in the key map's order, whether there is a pooler) of HF full names."""
    keys = list(full_keys)
    return keymap.heads_in(keys), "bert.pooler.dense.weight" in keys


def _fmt_keys(keys: list[str], limit: int = 8) -> str:
    more = f", ... ({len(keys)} in all)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def _full_model_keys(model: nn.Module) -> dict[str, str]:
    """Our full name -> the model's own state_dict name."""
    if isinstance(model, BertModel):
        return {keymap.add_prefix(k): k for k in model.state_dict()}
    return {k: k for k in model.state_dict()}


def convert_from_hf(model: nn.Module, state: dict[str, Tensor], *, source: str = "checkpoint",
                    may_lack: tuple[str, ...] = ()) -> tuple[dict[str, Tensor], LoadReport]:
    """Map a Hugging Face state dict onto ``model``'s parameter names, strictly.

    may_lack: parts of ``model`` the checkpoint need not have (head names, and ``pooler``): their parameters
        are listed in ``report.initialised`` and left out of the returned dict (the caller keeps their init).
    Returns (state dict for ``model.load_state_dict``, report). Raises BertkitError for unexpected or missing
    keys and for shape mismatches (naming the key and both shapes); ``source`` names the file in messages.
    """
    ours_to_own = _full_model_keys(model)
    own_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    normalised = {_normalise(k): (k, v) for k, v in state.items()}
    out: dict[str, Tensor] = {}
    report, unexpected = LoadReport(), []
    for full, (orig, tensor) in normalised.items():
        if _is_buffer(full):
            report.ignored.append(orig)
            continue
        if full in (_DECODER_WEIGHT, _DECODER_BIAS):
            twin = "bert.embeddings.word_embeddings.weight" if full == _DECODER_WEIGHT else "cls.predictions.bias"
            tied = normalised.get(twin)
            if tied is not None and (tied[1].shape != tensor.shape or not torch.equal(tied[1], tensor)):
                raise BertkitError(f"{source}: {orig} differs from {tied[0]}; untied MLM decoders are not supported")
            report.ignored.append(orig)
            continue
        ours = keymap.from_hf(full)
        if ours is None:
            unexpected.append(orig)
        elif ours not in ours_to_own:
            report.dropped.append(orig)  # a head (or pooler) the requested model does not have
        else:
            own = ours_to_own[ours]
            if tuple(tensor.shape) != own_shapes[own]:
                raise BertkitError(f"{source}: {orig} has shape {tuple(tensor.shape)} in the weights but the config "
                                   f"gives {own_shapes[own]}")
            out[own] = tensor
    if unexpected:
        raise BertkitError(f"{source}: unexpected key(s) not in a BERT checkpoint: {_fmt_keys(sorted(unexpected))}")
    absent = [o for o, own in ours_to_own.items() if own not in out]
    report.initialised = sorted(keymap.to_hf(o) or o for o in absent if _optional_part(o) in may_lack)
    missing = sorted(keymap.to_hf(o) or o for o in absent if _optional_part(o) not in may_lack)
    if missing:
        raise BertkitError(f"{source}: missing key(s) for {type(model).__name__}: {_fmt_keys(missing)}")
    return out, report


def _optional_part(our_key: str) -> str:
    """The part of a full name a checkpoint may lack: a head's name, ``pooler``, or ``bert`` (never optional)."""
    return "pooler" if our_key.startswith("bert.pooler.") else keymap.part_of(our_key)


def _build(model_cls: type, config: BertConfig, has_pooler: bool) -> nn.Module:
    if model_cls in (BertModel, BertForMaskedLM):
        return model_cls(config, add_pooling_layer=has_pooler)
    return model_cls(config)


def _class_for(config_path: Path, heads: tuple[str, ...]) -> type:
    """The model class for a checkpoint: its config.json ``architectures`` when that names one of ours and the
    weights hold its heads, else chosen by the heads the weights hold."""
    raw = json.loads(config_path.read_text(encoding="utf-8"))
    for name in raw.get("architectures") or ():
        cls = MODEL_CLASSES.get(name)
        if cls is not None and set(cls.HEADS) <= set(heads):
            return cls
    if heads == ("mlm", "nsp"):
        return BertForPreTraining
    if "mlm" in heads:
        return BertForMaskedLM
    if "qa_outputs" in heads:
        return BertForQuestionAnswering
    if "classifier" in heads:
        return BertForSequenceClassification
    return BertModel


def _model_class(model_cls) -> type:
    if model_cls not in MODEL_CLASSES.values():
        raise BertkitError(f"cannot load into {getattr(model_cls, '__name__', model_cls)}; "
                           f"one of {', '.join(MODEL_CLASSES)}")
    return model_cls


def load_pretrained(
    path: str | os.PathLike,
    *,
    model_cls: type | None = None,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
):
    """Load a Hugging Face BERT checkpoint directory.

    path: a directory with config.json, weights (model.safetensors, sharded safetensors or pytorch_model.bin;
        keys with or without ``bert.``, legacy gamma/beta names) and optionally vocab.txt.
    model_cls: one of :data:`bertkit.model.MODEL_CLASSES`; None picks the class config.json's
        ``architectures`` names (when the weights hold its heads), else by the heads in the weights (MLM + NSP
        -> BertForPreTraining, MLM -> BertForMaskedLM, qa_outputs -> BertForQuestionAnswering, classifier ->
        BertForSequenceClassification, none -> BertModel). Head weights the chosen class lacks are dropped and
        logged; anything else that does not fit (a missing head included) is a BertkitError.
    dtype: parameter dtype, a torch.dtype or its name ("bfloat16"); default torch's default dtype.
    device: where to put the model (default CPU).
    Returns (model in eval mode, Tokenizer or None when the directory has no vocab.txt).
    """
    dtype = _as_dtype(dtype) if dtype is not None else torch.get_default_dtype()
    p = _check_dir(path)
    config = BertConfig.from_json_file(p / CONFIG_NAME)
    state, weights_name = read_state_dict(p)
    heads, has_pooler = _heads_of(_normalise(k) for k in state)
    cls = _model_class(model_cls) if model_cls is not None else _class_for(p / CONFIG_NAME, heads)
    with torch.device("meta"):  # no random init: every parameter is assigned from the file
        model = _build(cls, config, has_pooler)
    sd, report = convert_from_hf(model, state, source=str(p / weights_name))
    _log_dropped(p, model, report)
    model.load_state_dict(sd, strict=True, assign=True)
    model.to(device=device or "cpu", dtype=dtype)
    for prm in model.parameters():  # tensors assigned from a file may come without requires_grad
        prm.requires_grad_(True)
    return model.eval(), _load_tokenizer(p, config)


def load_for_finetuning(path: str | os.PathLike, model_cls: type, config_update: dict[str, Any]):
    """Start fine-tuning from a checkpoint directory: the encoder from the file, the head of ``model_cls`` from
    the file when it holds that same head (same class, same labels), else freshly initialised.

    config_update: BertConfig fields the task sets (id2label, label2id, problem_type, dropouts, ...).
    The new head (and a pooler the file lacks) take their init from torch's current seed; a head of another
    task in the file is dropped. Missing encoder weights stay an error. Returns (model in train mode, Tokenizer
    or None, LoadReport with ``initialised`` and ``dropped`` filled).
    """
    p = _check_dir(path)
    cls = _model_class(model_cls)
    base = BertConfig.from_json_file(p / CONFIG_NAME)
    config = BertConfig.from_dict({**base.to_dict(), **config_update}, source=str(p / CONFIG_NAME))
    state, weights_name = read_state_dict(p)
    raw = json.loads((p / CONFIG_NAME).read_text(encoding="utf-8"))
    same_task = cls.__name__ in (raw.get("architectures") or ()) and base.id2label == config.id2label \
        and base.problem_type == config.problem_type
    foreign: list[str] = []
    if not same_task:  # another task's head (or none): it cannot be reused
        foreign = [k for k in state if keymap.is_head_key(_normalise(k)) and keymap.from_hf(_normalise(k))]
        state = {k: v for k, v in state.items() if k not in foreign}
    model = _build(cls, config, has_pooler=True)  # random init; the file overwrites all it has
    sd, report = convert_from_hf(model, state, source=str(p / weights_name), may_lack=(*cls.HEADS, "pooler"))
    report.dropped = sorted(foreign) + report.dropped
    _log_dropped(p, model, report)
    own, ours_to_own = model.state_dict(), _full_model_keys(model)
    for name in report.initialised:  # the new head keeps its fresh init; everything else comes from the file
        key = ours_to_own[keymap.from_hf(name)]
        sd[key] = own[key]
    model.load_state_dict(sd, strict=True)
    return model.train(), _load_tokenizer(p, config), report


def _log_dropped(p: Path, model: nn.Module, report: LoadReport) -> None:
    if report.dropped:
        log.warning("%s: dropped %d weight(s) of parts %s does not have: %s", p, len(report.dropped),
                    type(model).__name__, _fmt_keys(report.dropped))


def _as_dtype(dtype: torch.dtype | str) -> torch.dtype:
    d = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if isinstance(d, torch.dtype) and d.is_floating_point:
        return d
    raise BertkitError(f"dtype {dtype!r} is not a floating-point torch dtype (e.g. float32, bfloat16)")


def _load_tokenizer(p: Path, config: BertConfig):
    if not (p / VOCAB_NAME).is_file():
        return None
    from bertkit.tokenizer import Tokenizer

    tok = Tokenizer.from_pretrained(p)
    if tok.vocab_size > config.vocab_size:
        raise BertkitError(f"{p / VOCAB_NAME}: {tok.vocab_size} tokens but config.json vocab_size is "
                           f"{config.vocab_size}")
    return tok


def checkpoint_info(path: str | os.PathLike) -> dict[str, Any]:
    """Describe a checkpoint directory without building the model (for ``bertkit info``).

    Returns a JSON-ready dict: path, weights_file, architectures (from config.json), num_parameters (tied
    weights counted once), heads (subset of keymap.HEAD_PARTS), pooler (bool), dtype, tokenizer_vocab_size
    (lines of vocab.txt, or None) and config (BertConfig.to_dict()).
    """
    p = _check_dir(path)
    config = BertConfig.from_json_file(p / CONFIG_NAME)
    raw = json.loads((p / CONFIG_NAME).read_text(encoding="utf-8"))
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    files = _weights_files(p)
    for f in files:
        try:
            if f.name.endswith(".bin"):
                for k, v in torch.load(f, map_location="cpu", weights_only=True, mmap=True).items():
                    shapes[k] = (tuple(v.shape), str(v.dtype).removeprefix("torch."))
            else:
                with safe_open(f, framework="pt") as sf:
                    for k in sf.keys():
                        sl = sf.get_slice(k)
                        shapes[k] = (tuple(sl.get_shape()), _ST_DTYPES.get(sl.get_dtype(), sl.get_dtype()))
        except (SafetensorError, OSError, RuntimeError, EOFError, ValueError) as e:
            raise BertkitError(f"{f}: cannot read weights ({_first_line(e)})") from None
    full = {_normalise(k): v for k, v in shapes.items()}
    counted = [v for k, v in full.items() if not _is_buffer(k) and k not in (_DECODER_WEIGHT, _DECODER_BIAS)]
    heads, has_pooler = _heads_of(full)
    vocab_size = None
    if (p / VOCAB_NAME).is_file():
        from bertkit.tokenizer.vocab import load_vocab

        vocab_size = len(load_vocab(p / VOCAB_NAME))
    return {
        "path": str(p),
        "weights_file": files[0].name if len(files) == 1 else SAFETENSORS_INDEX_NAME,
        "architectures": raw.get("architectures"),
        "num_parameters": sum(int(torch.Size(s).numel()) for s, _ in counted),
        "heads": list(heads),
        "pooler": has_pooler,
        "dtype": "/".join(sorted({d for _, d in counted})),
        "tokenizer_vocab_size": vocab_size,
        "config": config.to_dict(),
    }


# ---- writing ------------------------------------------------------------------------------------------------


def convert_to_hf(model: nn.Module) -> dict[str, Tensor]:
    """``model``'s parameters under Hugging Face names (no ``bert.`` prefix for a bare BertModel, as HF)."""
    model = unwrap_model(model)
    ours_to_own = _full_model_keys(model)
    sd = model.state_dict()
    out = {}
    for ours, own in ours_to_own.items():
        theirs = keymap.to_hf(ours)
        if theirs is None:
            raise BertkitError(f"{type(model).__name__}: parameter {own} has no Hugging Face name")
        out[keymap.strip_prefix(theirs) if isinstance(model, BertModel) else theirs] = sd[own]
    return out


def unwrap_model(model: nn.Module) -> nn.Module:
    """The bertkit model inside DDP (``.module``) or ``torch.compile`` (``._orig_mod``) wrappers."""
    while True:
        inner = getattr(model, "_orig_mod", None) or getattr(model, "module", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def write_pretrained(model: nn.Module, path: str | os.PathLike, tokenizer: Any = None) -> None:
    """Write ``model`` as a Hugging Face directory into ``path`` (an existing, empty directory), not atomically.

    Writes config.json (with ``architectures`` and ``model_type``), model.safetensors, and the tokenizer's
    vocab.txt + tokenizer_config.json when ``tokenizer`` is given. DDP / compile wrappers are unwrapped.
    """
    model = unwrap_model(model)
    if type(model) not in MODEL_CLASSES.values():
        raise BertkitError(f"cannot save {type(model).__name__}; one of {', '.join(MODEL_CLASSES)}")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in convert_to_hf(model).items()}
    dtype = str(next(iter(tensors.values())).dtype).removeprefix("torch.")
    out = Path(path)
    model.config.to_json_file(out / CONFIG_NAME, architectures=[type(model).__name__], dtype=dtype,
                              tie_word_embeddings=True)
    save_file(tensors, str(out / SAFETENSORS_NAME), metadata={"format": "pt"})
    if tokenizer is not None:
        tokenizer.save_pretrained(out)


def save_pretrained(model: nn.Module, path: str | os.PathLike, tokenizer: Any = None) -> Path:
    """Write ``model`` (any of :data:`bertkit.model.MODEL_CLASSES`) as a Hugging Face directory,
    atomically: ``path`` is replaced as a whole only once everything is written (see :func:`write_pretrained`).
    Returns the path."""
    final = Path(path)
    with atomic_dir(final) as tmp:
        write_pretrained(model, tmp, tokenizer)
    return final


__all__ = ["load_pretrained", "load_for_finetuning", "save_pretrained", "write_pretrained", "unwrap_model", "checkpoint_info", "LoadReport",
           "convert_from_hf", "convert_to_hf", "read_state_dict"]
