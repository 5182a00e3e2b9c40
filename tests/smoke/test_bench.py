"""``bertkit bench``: the table and the JSON a user gets, on a tiny preset (seconds); the MFU arithmetic checked
against a hand count."""

from __future__ import annotations

import json

import numpy as np

from bertkit.config import BertConfig
from bertkit.train.bench import model_flops
from clirun import assert_one_line_error, bertkit


def test_bench_json_has_every_row():
    res = json.loads(bertkit("bench", "--preset", "tiny", "--dtype", "float32", "--repeats", "1",
                             "--max-length", "32", "--json").stdout)
    assert res["model"] == "tiny" and res["max_len"] == 32 and res["matmul_gflops"]["float32"] > 0 < res["matmul_gflops"]["bfloat16"]
    names = [r["name"] for r in res["rows"]]
    assert names == ["embed (inference)", "fine-tune step", "pretrain step"]
    for r in res["rows"]:
        assert r["dtype"] == "float32" and r["tokens_per_s"] > 0 and 0 < r["mfu"] < 1.5
        assert 0 <= r["padding"] < 1 and r["route"] in ("padded", "loop", "repad")
    assert res["rows"][2]["padding"] == 0 and res["rows"][2]["route"] == "padded"  # full-length pairs
    assert res["rows"][1]["padding"] > 0.1 and res["rows"][1]["route"] == "repad"  # random lengths, training
    assert res["peak_rss_gb"] > 0 and res["auto_dtype"] in ("float32", "bfloat16")


def test_bench_table_and_bad_preset():
    out = bertkit("bench", "--preset", "tiny", "--dtype", "float32", "--repeats", "1", "--max-length", "16").stdout
    assert "matmul peak" in out and "pretrain step" in out and "MFU" in out
    assert_one_line_error(bertkit("bench", "--preset", "huge", check=False), "huge")


def test_flops_by_hand():
    cfg = BertConfig(vocab_size=100, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16)
    per_layer = 4 * 8 * 8 + 2 * 8 * 16  # q, k, v, out + up, down
    lengths = np.array([3, 5])
    attention = 4 * 8 * 2 * (9 + 25)  # 4 L H per token and layer
    assert model_flops(cfg, lengths, 1) == 2 * 2 * per_layer * 8 + attention
    assert model_flops(cfg, lengths, 3, masked=2) == 3 * (2 * 2 * per_layer * 8 + attention + 2 * 8 * 100 * 2)
