"""Pretraining instances and masking: BERT's ratios and rules, reproducibility, the stream's exact resume.

The ratios are checked over >= 100k tokens with tolerances of several standard deviations (binomial), so a
correct implementation fails them with negligible probability and a wrong ratio (e.g. 10% or 20% masked,
or 70/15/15) fails them for sure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bertkit.config import DataConfig
from bertkit.data.instances import full_segments, pairs_from_document, truncate_pair
from bertkit.data.masking import MaskingVocab, mask_tokens
from bertkit.data.pretraining import PretrainingData, SpecialIds

# A toy vocabulary laid out like BERT's: specials, [unused], words and ## pieces.
TOKENS = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(300)] + \
         [f"##p{i}" for i in range(100)]
VOCAB = MaskingVocab.from_tokens(TOKENS)
SPECIAL = SpecialIds(cls=3, sep=4, pad=0)
WORDS = np.arange(6, 306)
PIECES = np.arange(306, 406)


class MemoryStore:
    """The TokenStore interface over documents held in memory."""

    def __init__(self, docs):
        self.docs, self.num_documents, self.path = docs, len(docs), Path("memory")

    def document(self, d):
        return self.docs[d]


def _docs(n_docs=120, seed=0, pieces=False):
    rng = np.random.default_rng(seed)
    docs = []
    for _ in range(n_docs):
        doc = []
        for _ in range(int(rng.integers(1, 25))):
            sent = rng.choice(WORDS, int(rng.integers(3, 30)))
            if pieces:  # ## pieces after some words
                sent = np.concatenate([[w] + ([int(rng.choice(PIECES))] if rng.random() < 0.4 else []) for w in sent])
            doc.append(sent.astype(np.uint16))
        docs.append(doc)
    return docs


def test_vocab_facts():
    assert VOCAB.mask_id == 5
    assert set(VOCAB.random_ids) == set(range(6, 406))  # never a special or [unused] token
    assert VOCAB.continuation[306] and not VOCAB.continuation[6]


def test_masking_ratios_over_100k_tokens():
    rng = np.random.default_rng(0)
    n_tok = n_masked = n_mask = n_same = n_rand = 0
    while n_tok < 120_000:
        ids = np.concatenate([[3], rng.choice(WORDS, 126), [4]]).astype(np.int64)
        maskable = (ids != 3) & (ids != 4)
        out, pos, lab = mask_tokens(ids, maskable, VOCAB, rng)
        assert np.all(maskable[pos]) and np.array_equal(lab, ids[pos]) and np.all(np.diff(pos) > 0)
        changed = np.flatnonzero(out != ids)
        assert set(changed) <= set(pos)  # only chosen positions change
        n_tok += len(ids)
        n_masked += len(pos)
        n_mask += int((out[pos] == 5).sum())
        same = out[pos] == ids[pos]
        n_same += int(same.sum())
        n_rand += int(((out[pos] != 5) & ~same).sum())
    assert abs(n_masked / n_tok - 0.15) < 0.002  # round(128 * 0.15) = 19 per 128 = 0.1484
    # 80/10/10 (a random draw may hit the original token: 1/400 of the 10%)
    sd = np.sqrt(0.1 * 0.9 / n_masked)
    assert abs(n_mask / n_masked - 0.8) < 5 * sd * 1.35
    assert abs(n_rand / n_masked - 0.1) < 5 * sd
    assert abs(n_same / n_masked - 0.1) < 5 * sd


def test_specials_and_padding_never_masked():
    rng = np.random.default_rng(1)
    for _ in range(2000):
        ids = np.array([3, 7, 8, 4, 9, 10, 11, 4, 0, 0], dtype=np.int64)
        maskable = (ids != 3) & (ids != 4) & (ids != 0)
        out, pos, _ = mask_tokens(ids, maskable, VOCAB, rng, probability=0.5)
        assert not set(pos) & {0, 3, 7, 8, 9}
        assert out[0] == 3 and out[3] == 4 and out[7] == 4 and out[8] == 0


def test_max_predictions_caps_the_count():
    rng = np.random.default_rng(2)
    ids = np.concatenate([[3], rng.choice(WORDS, 200), [4]])
    _, pos, _ = mask_tokens(ids, (ids != 3) & (ids != 4), VOCAB, rng, max_predictions=7)
    assert len(pos) == 7


def test_whole_word_masking_never_splits_a_word():
    rng = np.random.default_rng(3)
    total = masked = 0
    for doc in _docs(40, seed=3, pieces=True):
        for sent in doc:
            ids = np.concatenate([[3], sent.astype(np.int64), [4]])
            maskable = (ids != 3) & (ids != 4)
            out, pos, _ = mask_tokens(ids, maskable, VOCAB, rng, whole_word=True)
            chosen = np.zeros(len(ids), bool)
            chosen[pos] = True
            cont = VOCAB.continuation[ids] & maskable
            # a ## piece is chosen exactly when the token it continues is
            for i in np.flatnonzero(cont):
                assert chosen[i] == chosen[i - 1], (ids, pos)
            total += len(ids)
            masked += len(pos)
    assert 0.10 < masked / total < 0.16  # whole words, budget never exceeded


def test_truncate_pair_takes_from_the_longer_side():
    rng = np.random.default_rng(4)
    a, b = list(range(10)), list(range(100, 104))
    ta, tb = truncate_pair(a, b, 9, rng)
    assert len(ta) + len(tb) == 9 and tb == b and len(ta) == 5
    assert ta == a[a.index(ta[0]): a.index(ta[0]) + len(ta)]  # a contiguous run: cut only at the ends


def test_pairs_respect_length_and_balance_nsp():
    docs = _docs(300, seed=5)
    rng = np.random.default_rng(5)
    pool = np.arange(len(docs))

    def random_document(r, d):
        for _ in range(10):
            o = int(pool[r.integers(0, len(pool))])
            if o != d:
                return docs[o]
        return docs[o]

    labels, lengths = [], []
    for d, doc in enumerate(docs):
        for inst in pairs_from_document(d, doc, random_document, 64, 0.1, rng):
            assert len(inst.a) >= 1 and len(inst.b) >= 1
            lengths.append(len(inst.a) + len(inst.b) + 3)
            labels.append(inst.is_random_next)
    assert max(lengths) <= 64
    frac = np.mean(labels)
    # one-sentence chunks always take a random B, so slightly above one half, as in Google's code
    assert 0.45 < frac < 0.62, frac
    assert np.mean(np.array(lengths) >= 48) > 0.5  # most instances are filled near the target length


def test_not_random_next_is_the_actual_continuation():
    doc = [np.arange(i * 10 + 6, i * 10 + 16, dtype=np.int64) for i in range(12)]  # consecutive ids
    rng = np.random.default_rng(6)
    other = [np.full(50, 305, dtype=np.int64)]
    for inst in pairs_from_document(0, doc, lambda r, d: other, 128, 0.0, rng):
        if inst.is_random_next == 0:
            assert inst.b[0] == inst.a[-1] + 1 or len(inst.a) + len(inst.b) == 125  # contiguous unless cut
        else:
            assert np.all(inst.b == 305)


def test_full_segments_pack_across_documents():
    docs = _docs(30, seed=7)
    segs = full_segments(docs, 64, SPECIAL.sep)
    flat = np.concatenate([s.a for s in segs])
    want = np.concatenate([np.concatenate(d) if i == 0 else np.concatenate([[SPECIAL.sep], *d])
                           for i, d in enumerate(docs)])
    assert np.array_equal(flat, want)  # every token kept in order, a [SEP] between two documents
    assert all(len(s.a) == 62 for s in segs[:-1]) and 1 <= len(segs[-1].a) <= 62
    assert all(s.is_random_next == -1 and len(s.b) == 0 for s in segs)


def _data(**kw):
    cfg = DataConfig(max_seq_length=64, shuffle_documents=25, eval_documents=10, **kw)
    return PretrainingData(MemoryStore(_docs()), cfg, VOCAB, SPECIAL, seed=11, batch_size=8, grad_accum=2)


def _take(data, n, state=None):
    it = data.batches(state)
    return [next(it) for _ in range(n)]


def test_stream_is_reproducible_and_resumes_exactly():
    a = _take(_data(), 90)
    b = _take(_data(), 90)
    for (ma, sa), (mb, sb) in zip(a, b):
        assert sa == sb
        for x, y in zip(ma, mb):
            assert x.input_ids.equal(y.input_ids) and x.mlm_positions.equal(y.mlm_positions)
    resumed = _take(_data(), 40, state=a[49][1])
    for (ma, _), (mb, _) in zip(a[50:], resumed):
        for x, y in zip(ma, mb):
            assert x.input_ids.equal(y.input_ids) and x.mlm_labels.equal(y.mlm_labels)
            assert x.next_sentence_label.equal(y.next_sentence_label)
    assert a[-1][1]["epoch"] >= 1  # the stream went past an epoch and re-drew its instances


def test_epochs_redraw_instances():
    data = _data()
    e0 = next(data.batches({"epoch": 0, "block": 0, "offset": 0}))[0][0]
    e1 = next(data.batches({"epoch": 1, "block": 0, "offset": 0}))[0][0]
    assert not (e0.input_ids.shape == e1.input_ids.shape and e0.input_ids.equal(e1.input_ids))


def test_batches_are_well_formed():
    for micro, _ in _take(_data(whole_word_mask=True), 5):
        assert len(micro) == 2
        for b in micro:
            B, L = b.input_ids.shape
            assert B == 4 and L <= 64 and L % 8 == 0
            assert (b.input_ids[:, 0] == SPECIAL.cls).all()
            flat_ids = b.input_ids.flatten()
            assert not np.isin(b.mlm_labels.numpy(), [0, 3, 4]).any()  # labels are real tokens
            assert b.attention_mask.flatten()[b.mlm_positions].all()
            assert set(flat_ids[b.mlm_positions].tolist()) - set(range(6, 406)) <= {5}
            # token types: 0 up to and including the first [SEP], then 1 for B and its [SEP]
            for r in range(B):
                row = b.input_ids[r][b.attention_mask[r].bool()]
                seps = (row == SPECIAL.sep).nonzero().flatten().tolist()
                tt = b.token_type_ids[r][: len(row)].tolist()
                assert tt == [0] * (seps[0] + 1) + [1] * (len(row) - seps[0] - 1)


def test_ranks_split_the_global_batch():
    cfg = DataConfig(max_seq_length=64, shuffle_documents=25, eval_documents=10)
    whole = PretrainingData(MemoryStore(_docs()), cfg, VOCAB, SPECIAL, seed=3, batch_size=8)
    parts = [PretrainingData(MemoryStore(_docs()), cfg, VOCAB, SPECIAL, seed=3, batch_size=8, rank=r,
                             world_size=2) for r in range(2)]
    (w,), _ = next(whole.batches(None))
    rows = [next(p.batches(None))[0][0] for p in parts]
    L = w.input_ids.shape[1]
    for r, part in enumerate(rows):
        n = part.attention_mask.sum(1)
        for i in range(4):
            k = int(n[i])
            assert part.input_ids[i, :k].equal(w.input_ids[4 * r + i, :k])
    assert sum(int(p.mlm_positions.numel()) for p in rows) == int(w.mlm_positions.numel())
    assert L >= max(p.input_ids.shape[1] for p in rows)


def test_eval_set_is_held_out_and_fixed():
    data = _data()
    assert set(data.eval_docs.tolist()).isdisjoint(data.train_docs.tolist())
    e1, e2 = data.eval_batches(4), data.eval_batches(4)
    assert e1 and all(x.input_ids.equal(y.input_ids) and x.mlm_positions.equal(y.mlm_positions)
                      for x, y in zip(e1, e2))


def test_bad_batch_split_is_an_error():
    from bertkit.utils.errors import BertkitError

    with pytest.raises(BertkitError, match="does not divide"):
        PretrainingData(MemoryStore(_docs()), DataConfig(), VOCAB, SPECIAL, seed=0, batch_size=6, grad_accum=4)
    with pytest.raises(BertkitError, match="at least 2 documents"):
        PretrainingData(MemoryStore(_docs(1)), DataConfig(), VOCAB, SPECIAL, seed=0, batch_size=4)
