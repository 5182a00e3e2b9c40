"""The one training loop on a tiny model: exact resume, accumulation = one big batch, schedule, groups, files.

Runs go through ``bertkit.cli.pretrain.pretrain`` (what the command runs) on an in-memory token store.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from bertkit.config import RunConfig
from bertkit.model import BertForPreTraining
from bertkit.train.checkpoint import list_checkpoints
from bertkit.train.optim import linear_schedule, param_groups, resolve_warmup

VOCAB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vocab" / "bert-base-uncased"


class MemoryStore:
    def __init__(self, docs, tokenizer_dir):
        self.docs, self.num_documents, self.tokenizer_dir, self.path = docs, len(docs), tokenizer_dir, Path("mem")

    def document(self, d):
        return self.docs[d]


@pytest.fixture(scope="module")
def store(vocab_dir):
    rng = np.random.default_rng(0)
    docs = [[rng.integers(1996, 8000, int(rng.integers(4, 30))).astype(np.uint16)
             for _ in range(int(rng.integers(1, 20)))] for _ in range(80)]
    return MemoryStore(docs, vocab_dir("bert-base-uncased"))


BASE = ["model.preset=tiny", "model.num_hidden_layers=1", "model.max_position_embeddings=64",
        "data.max_seq_length=32", "data.shuffle_documents=20", "data.eval_documents=8", "data.eval_instances=16",
        "train.batch_size=8", "train.log_every=1", "train.dtype=float32", "train.eval_every=4"]


def _run(store, out: Path, extra: list[str], resume_from=None):
    from bertkit.cli.pretrain import pretrain

    cfg = RunConfig().with_overrides(BASE + extra)
    return pretrain(cfg, store, out, resume_from=resume_from, progress=False)


def _records(path: Path):
    return [{k: v for k, v in json.loads(ln).items() if k != "tokens_per_s"}
            for ln in path.read_text().splitlines()]


def test_exact_resume_from_a_lone_checkpoint(store, tmp_path):
    """Stopped after step 6 and resumed in a fresh folder that holds only checkpoints/step-6: the same logged
    losses and bit-identical final weights as the uninterrupted run (dropout on, so RNG state matters)."""
    full = tmp_path / "full"
    _run(store, full, ["train.max_steps=14", "train.save_every=6"])
    part = tmp_path / "part"
    (part / "checkpoints").mkdir(parents=True)
    shutil.copytree(full / "checkpoints" / "step-6", part / "checkpoints" / "step-6")
    _run(store, part, ["train.max_steps=14", "train.save_every=6"], resume_from=part / "checkpoints" / "step-6")
    want = [r for r in _records(full / "train_log.jsonl") if r["step"] > 6]
    got = _records(part / "train_log.jsonl")
    assert got == want and len(got) >= 8
    a, b = load_file(full / "model.safetensors"), load_file(part / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_in_place_cuts_the_log_back(store, tmp_path):
    out = tmp_path / "run"
    _run(store, out, ["train.max_steps=8", "train.save_every=4", "train.keep_checkpoints=1"])
    assert [s for s, _ in list_checkpoints(out / "checkpoints")] == [8]  # only the newest kept
    before = _records(out / "train_log.jsonl")
    # resume from step 8 to 8 more steps: records up to 8 stay as they were, new ones follow
    _run(store, out, ["train.max_steps=12", "train.save_every=4", "train.keep_checkpoints=1"],
         resume_from=out / "checkpoints" / "step-8")
    after = _records(out / "train_log.jsonl")
    assert after[: len(before)] == [r for r in before if r["step"] <= 8]
    assert max(r["step"] for r in after) == 12 and (out / "train_curves.png").stat().st_size > 1000


def test_accumulation_equals_one_big_batch(store, tmp_path):
    """grad_accum 4 x 2 sequences = 1 x 8: the loss is normalised by the step's total masked-token count, so
    weights agree to float tolerance although micro-batches hold different numbers of masked tokens."""
    no_dropout = ["model.hidden_dropout_prob=0", "model.attention_probs_dropout_prob=0", "train.max_steps=5"]
    _run(store, tmp_path / "a", no_dropout)
    _run(store, tmp_path / "b", no_dropout + ["train.grad_accum=4"])
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=2e-6)
    la = [r["loss"] for r in _records(tmp_path / "a" / "train_log.jsonl") if r["kind"] == "train"]
    lb = [r["loss"] for r in _records(tmp_path / "b" / "train_log.jsonl") if r["kind"] == "train"]
    np.testing.assert_allclose(la, lb, rtol=1e-6)


def test_compiled_training_follows_the_eager_trajectory(store, tmp_path):
    """train.compile=true (torch.compile, inductor): the same losses and weights as eager steps to float
    tolerance (dropout off: inductor draws its own random numbers), and the final evaluation (run uncompiled,
    packed as configured) the same. Skipped without a C++ compiler."""
    from bertkit.model.compiled import cpp_compiler

    if cpp_compiler() is None:
        pytest.skip("torch.compile on CPU needs a C++ compiler")
    no_dropout = ["model.hidden_dropout_prob=0", "model.attention_probs_dropout_prob=0", "train.max_steps=3",
                  "train.eval_every=100"]
    _run(store, tmp_path / "eager", no_dropout)
    from torch._dynamo.utils import counters

    counters.clear()
    _run(store, tmp_path / "compiled", no_dropout + ["train.compile=true"])
    assert counters["stats"]["unique_graphs"] >= 1  # the steps did go through dynamo
    a, b = load_file(tmp_path / "eager" / "model.safetensors"), load_file(tmp_path / "compiled" / "model.safetensors")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-5)
    for kind, n in (("train", 3), ("eval", 1)):
        la, lb = ([r["loss"] for r in _records(tmp_path / d / "train_log.jsonl") if r["kind"] == kind]
                  for d in ("eager", "compiled"))
        assert len(la) == n
        np.testing.assert_allclose(la, lb, rtol=1e-5)


def test_compile_refuses_what_it_cannot_run(monkeypatch):
    """A packed route cannot be compiled (config and library both say so), and a CPU without a C++ compiler
    gets one line, not inductor's traceback at the first step."""
    from bertkit.model import compile_model
    from bertkit.utils.errors import BertkitError

    with pytest.raises(BertkitError, match="compile=true runs the padded encoder; packing=loop"):
        RunConfig().with_overrides(BASE + ["train.compile=true", "train.packing=loop"])
    model = BertForPreTraining(RunConfig().with_overrides(BASE).bert_config(120))
    with pytest.raises(BertkitError, match="packing=repad cannot be compiled"):
        compile_model(model, torch.device("cpu"), "repad")
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    with pytest.raises(BertkitError, match="needs a C\\+\\+ compiler: no-such-compiler-here is not on PATH"):
        compile_model(model, torch.device("cpu"))


def test_output_is_a_model_directory_with_logs(store, tmp_path):
    out = tmp_path / "run"
    result = _run(store, out, ["train.max_steps=4"])
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "run_config.yaml",
            "train_log.jsonl", "train_curves.png", "checkpoints"} <= names
    recs = _records(out / "train_log.jsonl")
    train = [r for r in recs if r["kind"] == "train"]
    assert [r["step"] for r in train] == [1, 2, 3, 4]
    for key in ("loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "nsp_accuracy", "lr"):
        assert all(isinstance(r[key], float) for r in train), key
    assert any(r["kind"] == "eval" for r in recs) and result["metrics"]["kind"] == "eval"
    ran = RunConfig.from_yaml(out / "run_config.yaml")
    assert ran.train.lr == 1e-3  # the preset's default, resolved and written down


def test_a_loss_that_is_not_a_number_stops_the_run(store, tmp_path, monkeypatch):
    """A diverged run (here: the MLM loss made NaN from step 3) ends with one error naming the step, after
    logging it, instead of training on and saving NaN weights as a finished model."""
    from bertkit.tasks.pretraining import PretrainingObjective
    from bertkit.utils.errors import BertkitError

    calls = []
    original = PretrainingObjective.loss_and_metrics

    def poisoned(self, model, batch):
        sums = original(self, model, batch)
        calls.append(1)
        if len(calls) >= 3:
            sums["mlm_loss"] = sums["mlm_loss"] * float("nan")
        return sums

    monkeypatch.setattr(PretrainingObjective, "loss_and_metrics", poisoned)
    out = tmp_path / "run"
    with pytest.raises(BertkitError, match="step 3: mlm_loss is not a number"):
        _run(store, out, ["train.max_steps=6"])
    assert [r["step"] for r in _records(out / "train_log.jsonl")] == [1, 2, 3]
    assert not (out / "model.safetensors").exists()


def test_schedule_warmup_then_linear_decay():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = linear_schedule(opt, warmup_steps=4, total_steps=10)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, [0.0, 0.25, 0.5, 0.75, 1.0, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6])  # as HF
    assert resolve_warmup(None, 0.05, 1000) == 50 and resolve_warmup(None, 0.1, 141) == 15 \
        and resolve_warmup(5000, 0.05, 100) == 100


def test_no_weight_decay_on_biases_and_layernorm():
    from bertkit.config import BertConfig

    m = BertForPreTraining(BertConfig.preset("tiny", vocab_size=99))
    decay, no_decay = param_groups(m, 0.01)
    names = {id(p): n for n, p in m.named_parameters()}
    assert all(n.endswith("bias") or "norm" in n for n in map(names.get, map(id, no_decay["params"])))
    assert all(n.endswith("weight") and "norm" not in n for n in map(names.get, map(id, decay["params"])))
    assert no_decay["weight_decay"] == 0.0 and decay["weight_decay"] == 0.01
