"""Tokenizer parity on real data: bertkit vs BertTokenizerFast and BertTokenizerLegacy, four vocabularies.

Every line of SST-2 (train + dev), MRPC and RTE pairs, CoNLL-2003 sentences and SQuAD v1.1 dev
(question, context) pairs is encoded with [CLS]/[SEP]; input_ids and token_type_ids must equal both
references, offsets must equal the fast reference's offset_mapping. Mismatches are counted over the whole
corpus and reported with the first few diffs. Wikipedia paragraphs are in ``test_tokenizer_parity_wiki*.py``.

Where the two references disagree on a line, bertkit must match the fast one; the number of such lines per
corpus and vocabulary is pinned in ``tokparity.EXPECTED_DISAGREEMENTS`` (measured with transformers 5.23 /
tokenizers 0.23.3) and the known kinds are spelt out in ``test_reference_disagreements``.
"""

from __future__ import annotations

import pytest

from corpora import VOCABS
from tokparity import Mismatches, fail_if_any, sweep, unzip

pytestmark = pytest.mark.slow

CHUNK = 4000  # lines per batch call in the truncation tests


@pytest.mark.parametrize("vocab", VOCABS)
def test_sst2(vocab, refs, sst2_sentences):
    sweep("sst2", refs(vocab), sst2_sentences)


@pytest.mark.parametrize("vocab", VOCABS)
def test_mrpc(vocab, refs, mrpc_pairs):
    sweep("mrpc", refs(vocab), *unzip(mrpc_pairs))


@pytest.mark.parametrize("vocab", VOCABS)
def test_rte(vocab, refs, rte_pairs):
    sweep("rte", refs(vocab), *unzip(rte_pairs))


@pytest.mark.parametrize("vocab", VOCABS)
def test_conll(vocab, refs, conll_sentences):
    sweep("conll", refs(vocab), conll_sentences)


@pytest.mark.parametrize("vocab", VOCABS)
def test_squad(vocab, refs, squad_pairs):
    sweep("squad", refs(vocab), *unzip(squad_pairs))


# -- the memoised legacy path is the legacy tokenizer ------------------------------------------------------
TRICKY = [
    "Hello [CLS] world[SEP]x [MASK] [unk] [PAD]",
    "a" * 101 + " " + "b" * 100 + " supercalifragilisticexpialidocious",
    "Cafe\u0301 CAFÉ naïve Ångström İstanbul ﬁ ß ǅ",
    "中文字符测试 and 日本語 한국어",
    "tab\there\r\nnew\u00a0line\u2028x\u3000y\u200bz\ufeff\ufffd\x00\x7f",
    "",
    "   ",
]


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-multilingual-cased"])
def test_legacy_memo_is_exact(vocab, refs, sst2_sentences, rte_pairs, squad_pairs, conll_sentences):
    """The memoised legacy path equals the plain ``BertTokenizerLegacy.__call__`` (specials, long words, ...)."""
    r = refs(vocab)
    singles = sst2_sentences[:200] + conll_sentences[:200] + TRICKY
    pairs = rte_pairs[:100] + squad_pairs[:100] + [(a, b) for a in TRICKY for b in TRICKY[:3]]
    memo = r.legacy_memo.encode_all(singles) + r.legacy_memo.encode_all(*unzip(pairs))
    inputs = [(s, None) for s in singles] + pairs
    bad = []
    for (a, b), (ids, tt) in zip(inputs, memo):
        enc = r.legacy(a, b, add_special_tokens=True, return_token_type_ids=True)
        if (enc["input_ids"], enc["token_type_ids"]) != (ids, tt):
            bad.append(f"{(a, b)!r}: memo {ids} {tt} != legacy {enc['input_ids']} {enc['token_type_ids']}")
    assert not bad, f"{len(bad)} of {len(inputs)} differ:\n" + "\n".join(bad[:5])


# -- truncation and padding against the fast reference ---------------------------------------------------
FIELDS = ("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask", "offsets")


def compare_batch(tag, refs, texts, pairs, fast_kwargs, ours_kwargs, results: dict, start=0):
    """Compare one batch on every Encoding field the fast reference also gives (word/sequence ids too)."""
    fast = refs.fast_batch(texts, pairs, return_special_tokens_mask=True, return_attention_mask=True, **fast_kwargs)
    ours = refs.ours.encode_batch(texts, pairs, return_offsets=True, **ours_kwargs)
    if len(ours) != len(texts):
        raise AssertionError(f"{tag}: encode_batch returned {len(ours)} encodings for {len(texts)} inputs")
    for name in (*FIELDS, "word_ids", "sequence_ids"):
        results.setdefault(name, Mismatches(f"{tag} {name} vs BertTokenizerFast"))
    for j, enc in enumerate(ours):
        text = (texts[j], pairs[j]) if pairs is not None else texts[j]
        theirs = {
            "input_ids": fast["input_ids"][j],
            "token_type_ids": fast["token_type_ids"][j],
            "attention_mask": fast["attention_mask"][j],
            "special_tokens_mask": fast["special_tokens_mask"][j],
            "offsets": [tuple(o) for o in fast["offset_mapping"][j]],
            "word_ids": fast.word_ids(j),
            "sequence_ids": fast.sequence_ids(j),
        }
        mine = {name: getattr(enc, name) for name in theirs}
        mine["offsets"] = [tuple(o) for o in mine["offsets"]]
        for name in theirs:
            results[name].check(start + j, text, mine[name], theirs[name], refs, ids=name == "input_ids")


def feasible(refs, texts, pairs, side, max_length):
    """Indices where truncating only ``side`` (0 first, 1 second) can reach max_length (else HF raises)."""
    other = pairs if side == 0 else texts
    lengths = [len(x) for x in refs.fast(list(other), add_special_tokens=False)["input_ids"]]
    return [i for i, n in enumerate(lengths) if n + 3 < max_length]


TRUNCATION = [True, "longest_first", "only_first", "only_second"]


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-multilingual-cased"])
@pytest.mark.parametrize("max_length", [64, 128])
@pytest.mark.parametrize("strategy", TRUNCATION)
def test_truncation_pairs(vocab, max_length, strategy, refs, rte_pairs, squad_pairs):
    """Every truncation strategy on RTE and SQuAD pairs (both orders, so each side gets cut)."""
    r = refs(vocab)
    results: dict[str, Mismatches] = {}
    squad = squad_pairs[:1500]
    for corpus, pairs in (("rte", rte_pairs), ("squad", squad), ("squad-swapped", [(b, a) for a, b in squad])):
        texts, seconds = unzip(pairs)
        keep = list(range(len(texts)))
        if strategy in ("only_first", "only_second"):
            keep = feasible(r, texts, seconds, 0 if strategy == "only_first" else 1, max_length)
        texts, seconds = [texts[i] for i in keep], [seconds[i] for i in keep]
        kw = dict(truncation=strategy, max_length=max_length)
        for s in range(0, len(texts), CHUNK):
            compare_batch(
                f"{corpus}/{vocab} truncation={strategy!r} max_length={max_length}",
                r, texts[s : s + CHUNK], seconds[s : s + CHUNK], kw, kw, results, s,
            )
    fail_if_any(list(results.values()))


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-cased"])
@pytest.mark.parametrize("max_length", [64, 128])
def test_truncation_single(vocab, max_length, refs, squad_pairs, sst2_sentences):
    """truncation=True and "longest_first" on single sequences (SQuAD contexts, SST-2 sentences)."""
    r = refs(vocab)
    contexts = list(dict.fromkeys(c for _, c in squad_pairs))
    results: dict[str, Mismatches] = {}
    for strategy in (True, "longest_first"):
        kw = dict(truncation=strategy, max_length=max_length)
        for corpus, texts in (("squad-contexts", contexts), ("sst2", sst2_sentences[:3000])):
            compare_batch(f"{corpus}/{vocab} truncation={strategy!r} max_length={max_length}", r, texts, None,
                          kw, kw, results)
    fail_if_any(list(results.values()))


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-multilingual-cased"])
@pytest.mark.parametrize("padding", [True, "longest", "max_length"])
def test_padding(vocab, padding, refs, rte_pairs, sst2_sentences, conll_sentences):
    """Padding in batches of 16, with and without pairs; "max_length" with truncation to 128."""
    r = refs(vocab)
    kw: dict = dict(padding=padding)
    if padding == "max_length":
        kw.update(max_length=128, truncation=True)
    results: dict[str, Mismatches] = {}
    for corpus, texts, seconds in (
        ("rte", *unzip(rte_pairs[:800])),
        ("sst2", sst2_sentences[:800], None),
        ("conll", conll_sentences[:800], None),
    ):
        for s in range(0, len(texts), 16):
            compare_batch(
                f"{corpus}/{vocab} padding={padding!r}", r, texts[s : s + 16],
                seconds[s : s + 16] if seconds is not None else None, kw, kw, results, s,
            )
    fail_if_any(list(results.values()))


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-cased"])
def test_encode_equals_encode_batch(vocab, refs, rte_pairs, sst2_sentences):
    """``encode`` one at a time gives the same Encoding fields as ``encode_batch``."""
    ours = refs(vocab).ours
    cases = [(s, None) for s in sst2_sentences[:300]] + rte_pairs[:300]
    bad = []
    for offsets in (False, True):
        for trunc in (None, True):
            kw = dict(return_offsets=offsets)
            if trunc:
                kw.update(truncation=True, max_length=48)
            batch_single = ours.encode_batch([a for a, b in cases[:300]], **kw)
            batch_pair = ours.encode_batch(*unzip(cases[300:]), **kw)
            for (a, b), enc_b in zip(cases, batch_single + batch_pair):
                enc = ours.encode(a, b, **kw)
                for name in ("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask", "offsets",
                             "word_ids", "sequence_ids", "tokens"):
                    if getattr(enc, name) != getattr(enc_b, name):
                        bad.append(f"{(a, b)!r} {kw} {name}: encode {getattr(enc, name)} "
                                   f"!= encode_batch {getattr(enc_b, name)}")
    assert not bad, f"{len(bad)} differences:\n" + "\n".join(bad[:5])


# -- where the two references disagree, bertkit follows the fast one -------------------------------------
# (vocab, text, fast tokens, legacy tokens, why). Tokens without [CLS]/[SEP].
DISAGREEMENTS = [
    (
        "bert-base-uncased",
        "\u039d\u0395\u0399\u039b\u039f\u03a3 and",  # ΝΕΙΛΟΣ (Wikipedia, "Abraxas")
        ["\u03bd", "##\u03b5", "##\u03b9", "##\u03bb", "##\u03bf", "##\u03c3", "and"],
        ["\u03bd", "##\u03b5", "##\u03b9", "##\u03bb", "##\u03bf\u03c2", "and"],
        "Python's str.lower() maps a word-final capital sigma to final sigma (U+03C2); Rust lowercases "
        "per character (U+03C3). The 2 wiki/bert-base-uncased disagreements are this.",
    ),
    (
        "bert-base-cased",
        "Cafe\u0301 x",
        ["Cafe", "##\u0301", "x"],
        ["Caf\u00e9", "x"],
        "the legacy BasicTokenizer NFC-normalises the text (a transformers addition); the fast one does not",
    ),
    (
        "bert-base-multilingual-cased",
        "A\u030a",
        ["[UNK]"],
        ["\u00c5"],
        "NFC in the legacy tokenizer again: A + combining ring becomes \u00c5, which is in the vocabulary",
    ),
    (
        "bert-base-uncased",
        "a\u061db",
        ["[UNK]"],
        ["a", "[UNK]", "b"],
        "U+061D ARABIC END OF TEXT MARK is Po in Python 3.11's Unicode 14 (split off) but unassigned in the "
        "Rust crate's older table (kept inside the word)",
    ),
    (
        "bert-base-multilingual-cased",
        "x\u0890y",
        ["[UNK]"],
        ["x", "##y"],
        "U+0890 ARABIC POUND MARK ABOVE is Cf in Unicode 14 (removed as a control) but unassigned for Rust",
    ),
]


@pytest.mark.parametrize("case", DISAGREEMENTS, ids=lambda c: f"{c[0]}:{c[1]!r}")
def test_reference_disagreements(case, refs):
    vocab, text, fast_tokens, legacy_tokens, why = case
    r = refs(vocab)
    fast_ids = r.fast(text, add_special_tokens=True)["input_ids"]
    legacy_ids = r.legacy(text, add_special_tokens=True)["input_ids"]
    assert r.tokens(fast_ids[1:-1]) == fast_tokens, "fast reference output changed"
    assert r.tokens(legacy_ids[1:-1]) == legacy_tokens, "legacy reference output changed"
    assert fast_ids != legacy_ids, f"the references now agree on {text!r}: drop this case ({why})"
    assert r.ours.encode(text).input_ids == fast_ids, f"bertkit must follow BertTokenizerFast on {text!r} ({why})"


def test_empty_pair_quirk(refs):
    """A known quirk of transformers' single-input call: ``fast(text, "")`` drops the empty pair
    (``[(text, text_pair)] if text_pair else [text]``), while its batch call and the legacy tokenizer encode
    it as an empty second sequence. bertkit follows the batch call and the legacy tokenizer."""
    r = refs("bert-base-uncased")
    single = r.fast("a", "")["input_ids"]
    batch = r.fast_batch(["a"], [""])["input_ids"][0]
    legacy = r.legacy("a", "")["input_ids"]
    assert single == [101, 1037, 102], "transformers now keeps the empty pair: drop this quirk"
    assert batch == legacy == [101, 1037, 102, 102]
    enc = r.ours.encode("a", "")
    assert enc.input_ids == batch and enc.token_type_ids == [0, 0, 0, 1]
