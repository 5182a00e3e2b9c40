"""``bertkit pretrain`` and ``bertkit fill-mask`` end to end on a real slice of Wikipedia, as a user runs
them: the result loads in transformers with the same logits, a kill -9 during a checkpoint write loses
nothing, two processes under torchrun train the same weights as one, and bad input gets one line."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from clirun import assert_one_line_error, bertkit, files_under

TINY = ["--preset", "tiny", "--batch-size", "8", "--set", "model.num_hidden_layers=1",
        "--set", "model.max_position_embeddings=64", "--set", "data.max_seq_length=32",
        "--set", "data.eval_instances=16", "--set", "data.eval_documents=4", "--set", "train.dtype=float32",
        "--set", "train.log_every=1", "--no-progress"]
NO_DROPOUT = ["--set", "model.hidden_dropout_prob=0", "--set", "model.attention_probs_dropout_prob=0"]


@pytest.fixture(scope="module")
def store(data_dir, vocab_dir, tmp_path_factory) -> Path:
    """A token store of the first whole articles (about 400 KB) of a Wikipedia shard."""
    import gzip

    shard = data_dir / "wikipedia_en" / "enwiki_part00.txt.gz"
    if not shard.is_file():
        pytest.skip(f"data missing: {shard}")
    root = tmp_path_factory.mktemp("pretrain")
    lines, size = [], 0
    with gzip.open(shard, "rt", encoding="utf-8") as f:
        for line in f:
            lines.append(line)
            size += len(line)
            if line.startswith("</doc>") and size > 400_000:
                break
    (root / "wiki.txt").write_text("".join(lines), encoding="utf-8")
    bertkit("prepare", root / "wiki.txt", "--tokenizer", vocab_dir("bert-base-uncased"), "--output",
            root / "store", "--workers", "1")
    return root / "store"


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(path / "model.safetensors")


def test_pretrain_loads_in_transformers_with_identical_logits(store, tmp_path):
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "run"
    proc = bertkit("pretrain", "--data", store, "--output", out, "--max-steps", "4", *TINY)
    assert "pretrained 4 steps" in proc.stdout
    hf, info = transformers.BertForPreTraining.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    from bertkit.convert import load_pretrained

    ours, tok = load_pretrained(out)
    enc = tok.encode_batch(["the cat sat on the [MASK].", "paris is the capital of france."], padding="longest")
    ids = torch.tensor([e.input_ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    types = torch.tensor([e.token_type_ids for e in enc])
    with torch.no_grad():
        want = hf.eval()(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = ours(ids, mask, types)
    torch.testing.assert_close(got.prediction_logits, want.prediction_logits, rtol=0, atol=1e-5)
    torch.testing.assert_close(got.seq_relationship_logits, want.seq_relationship_logits, rtol=0, atol=1e-5)

    table = bertkit("fill-mask", "--model", out, "the cat sat on the [MASK].", "a [MASK] and a [MASK].").stdout
    assert table.count("[MASK] 1:") == 2 and "[MASK] 2:" in table
    lines = bertkit("fill-mask", "--model", out, "--json", "--top-k", "3", "the [MASK] sat.").stdout.splitlines()
    rec = json.loads(lines[0])
    assert len(rec["masks"]) == 1 and len(rec["masks"][0]["predictions"]) == 3
    probs = [p["probability"] for p in rec["masks"][0]["predictions"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1


KILLER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import bertkit.train.checkpoint as c
    real = c.write_pretrained
    def write_then_die(model, path, tokenizer=None):
        real(model, path, tokenizer)
        if Path(path).name.startswith(".step-4."):
            os.kill(os.getpid(), 9)  # mid-checkpoint: weights written, training state not yet
    c.write_pretrained = write_then_die
    from bertkit.cli.main import main
    sys.exit(main(sys.argv[1:]))
""")


def test_kill_during_checkpoint_write_then_resume(store, tmp_path):
    import subprocess

    args = ["pretrain", "--data", store, "--max-steps", "6", "--save-every", "2", *TINY]
    full = tmp_path / "full"
    bertkit(*args, "--output", full)
    run = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILLER, *map(str, args), "--output", str(run)],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr
    from bertkit.train.checkpoint import list_checkpoints

    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [2]
    assert any(n.startswith(".step-4.") for n in files_under(run / "checkpoints"))  # the torn write is there
    bertkit(*args, "--output", run, "--resume")
    a, b = _weights(full), _weights(run)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not any(n.startswith(".step-") for n in files_under(run / "checkpoints"))


def test_two_processes_match_one(store, tmp_path):
    """torchrun --nproc_per_node 2 (gloo): each rank takes half of every global batch of 8; with dropout off
    the weights equal those of one process within float tolerance."""
    args = ["pretrain", "--data", store, "--max-steps", "3", *TINY, *NO_DROPOUT]
    bertkit(*args, "--output", tmp_path / "one")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    bertkit(*args, "--output", tmp_path / "two", launcher=torchrun, env={"OMP_NUM_THREADS": "1"})
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=5e-6)
    logs = [json.loads(ln) for ln in (tmp_path / "two" / "train_log.jsonl").read_text().splitlines()]
    train = [r for r in logs if r["kind"] == "train"]
    assert len(train) == 3 and all(r["processes"] == 2 for r in train)  # rank 0 alone writes the log


def test_two_processes_resume_bit_for_bit(store, tmp_path):
    """Under torchrun each process's dropout stream is saved and restored: stopped at step 2 and resumed in a
    fresh folder holding only checkpoints/step-2, the final weights equal the uninterrupted run's exactly."""
    import shutil

    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    args = ["pretrain", "--data", store, "--max-steps", "4", "--save-every", "2", *TINY]
    env = {"OMP_NUM_THREADS": "1"}
    bertkit(*args, "--output", tmp_path / "full", launcher=torchrun, env=env)
    (tmp_path / "part" / "checkpoints").mkdir(parents=True)
    shutil.copytree(tmp_path / "full" / "checkpoints" / "step-2", tmp_path / "part" / "checkpoints" / "step-2")
    bertkit(*args, "--output", tmp_path / "part", "--resume", launcher=torchrun, env=env)
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_bad_input_is_one_line(store, tmp_path):
    out = tmp_path / "out"
    assert_one_line_error(bertkit("pretrain", "--data", tmp_path / "nope", "--output", out, check=False),
                          "nope")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(bertkit("pretrain", "--data", tmp_path / "empty", "--output", out, check=False),
                          "empty")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("train:\n  lr: [1e-4\n")
    assert_one_line_error(bertkit("pretrain", "--data", store, "--output", out, "--config", bad_yaml,
                                  check=False), "bad.yaml", "line")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("train:\n  learning_rate: 1e-4\n")
    assert_one_line_error(bertkit("pretrain", "--data", store, "--output", out, "--config", unknown,
                                  check=False), "train.learning_rate")
    assert_one_line_error(bertkit("pretrain", "--data", store, "--output", out, "--set", "train.lrr=1",
                                  check=False), "train.lrr")
    assert_one_line_error(bertkit("pretrain", "--data", store, "--output", out, "--resume", check=False),
                          "--resume", "no complete checkpoint")
    assert not out.exists()  # nothing half-written by any of the above
    bertkit("pretrain", "--data", store, "--output", out, "--max-steps", "1", *TINY)
    assert_one_line_error(bertkit("pretrain", "--data", store, "--output", out, "--max-steps", "1", *TINY,
                                  check=False), "already holds", "--resume")
    assert_one_line_error(bertkit("pretrain", "--data", store, "--output", out, "--resume", *TINY,
                                  "--set", "train.lr=0.5", check=False), "differs", "train.lr")
    assert_one_line_error(bertkit("fill-mask", "--model", out, "no mask here", check=False), "[MASK]")


def test_store_of_another_tokenizer_is_refused_on_resume(store, tmp_path, data_dir):
    out = tmp_path / "run"
    bertkit("pretrain", "--data", store, "--output", out, "--max-steps", "2", "--save-every", "2", *TINY)
    cased_store = tmp_path / "cased"
    wiki = store.parent / "wiki.txt"
    bertkit("prepare", wiki, "--tokenizer", data_dir / "vocab" / "bert-base-multilingual-cased", "--output",
            cased_store, "--workers", "1")
    assert_one_line_error(bertkit("pretrain", "--data", cased_store, "--output", out, "--resume", *TINY,
                                  check=False), "vocab_size")
