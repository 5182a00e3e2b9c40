"""Unit tests of bertkit.tokenizer: loading/saving, truncation, padding, decode, never_split, tables, cache.

Where a reference exists the expected value comes from ``transformers.BertTokenizerFast`` (built with
``vocab=``: in transformers 5 ``vocab_file=`` is silently ignored) or, for options the fast tokenizer ignores
(``never_split``, ``do_basic_tokenize``), from ``BertTokenizerLegacy``. The broad sweeps on real data live in
tests/parity.
"""

from __future__ import annotations

import gc
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bertkit.tokenizer import Encoding, Tokenizer
from bertkit.tokenizer import basic
from bertkit.tokenizer.encoding import truncation_lengths
from bertkit.utils.errors import BertkitError
from bertkit.utils.paths import shared_data_dir

VOCAB_DIR = shared_data_dir() / "vocab"
UNCASED = VOCAB_DIR / "bert-base-uncased"
CASED = VOCAB_DIR / "bert-base-cased"
needs_data = pytest.mark.skipif(not UNCASED.exists(), reason="shared vocabularies not available")

TINY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a", "b", "##b", ",", "!", "hello",
        "world", "'", "s", ".", "the", "##s"]


@pytest.fixture()
def tiny(tmp_path: Path) -> Tokenizer:
    (tmp_path / "vocab.txt").write_text("".join(t + "\n" for t in TINY), encoding="utf-8")
    return Tokenizer.from_vocab(tmp_path / "vocab.txt")


@pytest.fixture(scope="module")
def uncased() -> Tokenizer:
    if not UNCASED.exists():
        pytest.skip("shared vocabularies not available")
    return Tokenizer.from_pretrained(UNCASED)


@pytest.fixture(scope="module")
def fast_uncased():
    transformers = pytest.importorskip("transformers")
    if not UNCASED.exists():
        pytest.skip("shared vocabularies not available")
    return transformers.BertTokenizerFast.from_pretrained(str(UNCASED))


# ------------------------------------------------------------------------------------------------ basics
def test_wordpiece_greedy_longest_match(tiny):
    assert tiny.tokenize("unaffable") == ["un", "##aff", "##able"]
    assert tiny.tokenize("Hello, World!") == ["hello", ",", "world", "!"]
    assert tiny.tokenize("bbb") == ["b", "##b", "##b"]
    assert tiny.tokenize("unknownword a") == ["[UNK]", "a"]  # one unmatched part -> the whole word is [UNK]
    assert tiny.tokenize("a" * 100) == ["[UNK]"]  # no piece "##a": unk anyway
    assert tiny.tokenize("b" * 100) == ["b"] + ["##b"] * 99
    assert tiny.tokenize("b" * 101) == ["[UNK]"]  # longer than max_input_chars_per_word


def test_encoding_fields(tiny):
    e = tiny.encode("hello world", "a b", return_offsets=True)
    assert isinstance(e, Encoding)
    assert e.tokens == ["[CLS]", "hello", "world", "[SEP]", "a", "b", "[SEP]"]
    assert e.input_ids == [2, 13, 14, 3, 8, 9, 3]
    assert e.token_type_ids == [0, 0, 0, 0, 1, 1, 1]
    assert e.attention_mask == [1] * 7
    assert e.special_tokens_mask == [1, 0, 0, 1, 0, 0, 1]
    assert e.word_ids == [None, 0, 1, None, 0, 1, None]
    assert e.sequence_ids == [None, 0, 0, None, 1, 1, None]
    assert e.offsets == [(0, 0), (0, 5), (6, 11), (0, 0), (0, 1), (2, 3), (0, 0)]
    assert tiny.encode("hello").offsets is None


def test_special_tokens_typed_in_text(tiny):
    e = tiny.encode("a[MASK]b [cls]", return_offsets=True)
    # specials match case-sensitively anywhere in the raw text; "[cls]" is ordinary text ("[", "cls", "]")
    assert e.tokens == ["[CLS]", "a", "[MASK]", "b", "[UNK]", "[UNK]", "[UNK]", "[SEP]"]
    assert e.offsets[1:7] == [(0, 1), (1, 7), (7, 8), (9, 10), (10, 13), (13, 14)]
    assert e.word_ids[1:7] == [0, 1, 2, 3, 4, 5]
    assert e.special_tokens_mask == [1, 0, 0, 0, 0, 0, 0, 1]  # as in the fast tokenizer: only added ones


def test_offsets_point_into_original(uncased, fast_uncased):
    text = "Café\u200b DÉJÀ-vu\t野口 İx naïve"
    e = uncased.encode(text, return_offsets=True, add_special_tokens=False)
    assert e.tokens == ["cafe", "de", "##ja", "-", "vu", "野", "口", "ix", "naive"]
    # lower-cased, accent-stripped pieces still point at the original characters; the removed U+200B is in none
    assert [text[a:b] for a, b in e.offsets] == ["Café", "DÉ", "JÀ", "-", "vu", "野", "口", "İx", "naïve"]
    assert e.offsets == fast_uncased(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]


def test_offsets_with_irregular_spacing_and_empty_words(uncased, fast_uncased):
    # the fast offset path assumes one separator between chunks; these take the general one
    for text in ["a \u200b b", "  lead and trail  ", "x\u0301 \u0301 y", "a\tb\n\nc", "\u200b", "a\u3000b c"]:
        got = uncased.encode(text, return_offsets=True)
        want = fast_uncased(text, return_offsets_mapping=True)
        assert got.input_ids == want["input_ids"], repr(text)
        assert got.offsets == want["offset_mapping"], repr(text)
        assert got.word_ids == want.word_ids(), repr(text)


def test_bert_whitespace_is_not_str_split(fast_uncased, uncased):
    # \x1c-\x1f, \x0b, \x0c and \x85 are control characters removed by BERT (Rust), not separators
    for text in ["ab\x1ccd", "ab\x0bcd ef", "ab\x85cd", "x\u2028y\u3000z", "a\xa0b"]:
        assert uncased.encode(text).input_ids == fast_uncased(text)["input_ids"], repr(text)
    assert uncased.tokenize("ab\x1fcd") == uncased.tokenize("abcd")


def test_tokenizer_never_imports_torch():
    code = "import sys, bertkit.tokenizer as t; assert 'torch' not in sys.modules and 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------- loading
@needs_data
def test_from_pretrained_all_vocabs():
    for d in sorted(VOCAB_DIR.iterdir()):
        cfg = json.loads((d / "tokenizer_config.json").read_text())
        tok = Tokenizer.from_pretrained(d)
        assert tok.vocab_size == cfg["vocab_size"]
        assert tok.do_lower_case == cfg["do_lower_case"]
        assert (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == (
            0, 100, 101, 102, 103)
        assert tok.model_max_length == 512
        assert tok.ids_to_tokens[tok.vocab["the"]] == "the"


def test_loading_errors(tmp_path: Path):
    with pytest.raises(BertkitError, match="no such directory"):
        Tokenizer.from_pretrained(tmp_path / "nope")
    with pytest.raises(BertkitError, match="vocab.txt"):
        Tokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("".join(t + "\n" for t in TINY))
    cfg = tmp_path / "tokenizer_config.json"
    cfg.write_text('{"do_lower_case": true,')
    with pytest.raises(BertkitError, match="tokenizer_config.json.*malformed JSON"):
        Tokenizer.from_pretrained(tmp_path)
    cfg.write_text('{"do_lower_case": "yes"}')
    with pytest.raises(BertkitError, match="'do_lower_case'"):
        Tokenizer.from_pretrained(tmp_path)
    cfg.write_text('{"model_max_length": "long"}')
    with pytest.raises(BertkitError, match="'model_max_length'"):
        Tokenizer.from_pretrained(tmp_path)
    cfg.write_text('{"never_split": [1]}')
    with pytest.raises(BertkitError, match="'never_split'"):
        Tokenizer.from_pretrained(tmp_path)
    cfg.write_text('{"mask_token": "<mask>"}')
    with pytest.raises(BertkitError, match="mask_token.*not in the vocabulary"):
        Tokenizer.from_pretrained(tmp_path)
    cfg.write_text('{"unk_token": {"content": "[UNK]", "lstrip": false}, "model_max_length": 1e30, "x": 1}')
    assert Tokenizer.from_pretrained(tmp_path).unk_token == "[UNK]"  # HF serialisations are accepted
    (tmp_path / "vocab.txt").write_text("a\nb\na\n")
    with pytest.raises(BertkitError, match="line 3.*already on line 1"):
        Tokenizer.from_vocab(tmp_path / "vocab.txt")
    (tmp_path / "vocab.txt").write_bytes(b"[UNK]\n\xff\n")
    with pytest.raises(BertkitError, match="line 2"):
        Tokenizer.from_vocab(tmp_path / "vocab.txt")


def test_gz_vocab(tmp_path: Path):
    p = tmp_path / "vocab.txt.gz"
    with gzip.open(p, "wt", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in TINY))
    assert Tokenizer.from_vocab(p).tokenize("unaffable") == ["un", "##aff", "##able"]


def test_save_pretrained_loads_in_transformers(tmp_path: Path, tiny):
    transformers = pytest.importorskip("transformers")
    tok = Tokenizer.from_vocab(tmp_path / "vocab.txt", do_lower_case=False,
                               model_max_length=64)
    out = tmp_path / "saved"
    out.mkdir()
    tok.save_pretrained(out)
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    assert cfg["tokenizer_class"] == "BertTokenizer" and cfg["do_lower_case"] is False
    again = Tokenizer.from_pretrained(out)
    assert again.ids_to_tokens == tok.ids_to_tokens and again.do_lower_case is False
    assert again.model_max_length == 64
    hf = transformers.BertTokenizerFast.from_pretrained(str(out))
    for text in ["Hello, world! unaffable", "hello the bb"]:
        assert hf(text)["input_ids"] == tok.encode(text).input_ids
    with pytest.raises(BertkitError):
        tok.save_pretrained(tmp_path / "missing")


# ------------------------------------------------------------------------------------------- truncation
def test_truncation_lengths_spec():
    # longest_first: the shorter keeps what it can, else half each, odd token to the longer (second on ties)
    assert truncation_lengths(7, 4, 20, "longest_first") == (7, 4)
    assert truncation_lengths(7, 4, 8, "longest_first") == (4, 4)
    assert truncation_lengths(7, 2, 5, "longest_first") == (3, 2)
    assert truncation_lengths(7, 4, 5, "longest_first") == (3, 2)
    assert truncation_lengths(4, 7, 5, "longest_first") == (2, 3)
    assert truncation_lengths(4, 4, 5, "longest_first") == (2, 3)
    assert truncation_lengths(7, None, 5, "longest_first") == (5, None)
    assert truncation_lengths(7, 4, 8, "only_first") == (4, 4)
    assert truncation_lengths(7, 4, 8, "only_second") == (7, 1)
    assert truncation_lengths(7, 4, 0, "only_second") == (0, 0)  # zero budget empties both
    with pytest.raises(BertkitError):
        truncation_lengths(7, 4, 7, "only_second")  # would have to remove all 4 (tokenizers refuses)
    with pytest.raises(BertkitError):
        truncation_lengths(7, 4, 4, "only_first")
    with pytest.raises(BertkitError):
        truncation_lengths(7, None, 4, "only_second")


@pytest.mark.parametrize("strategy", [True, "longest_first", "only_first", "only_second"])
@pytest.mark.parametrize("max_length", [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 30])
def test_truncation_matches_fast(uncased, fast_uncased, strategy, max_length):
    a, b = "one two three four five six seven", "alpha beta gamma delta"
    for pair in (None, b):
        try:
            want = fast_uncased(a, pair, truncation=strategy, max_length=max_length)
        except Exception:
            with pytest.raises(BertkitError):
                uncased.encode(a, pair, truncation=strategy, max_length=max_length)
            continue
        got = uncased.encode(a, pair, truncation=strategy, max_length=max_length, return_offsets=True)
        assert got.input_ids == want["input_ids"]
        assert got.token_type_ids == want["token_type_ids"]
        assert got.word_ids == want.word_ids()


def test_max_length_alone_means_longest_first_and_true_means_model_max(tiny):
    assert len(tiny.encode("a b a b a b", max_length=4).input_ids) == 4
    assert len(tiny.encode("a b a b a b", max_length=4, truncation=False).input_ids) == 8
    tiny.model_max_length = 5
    assert tiny.encode("a b a b a b", truncation=True).tokens == ["[CLS]", "a", "b", "a", "[SEP]"]
    with pytest.raises(BertkitError, match="truncation"):
        tiny.encode("a", truncation="middle_out")


# ---------------------------------------------------------------------------------------------- padding
def test_padding(tiny):
    e = tiny.encode("a b", padding="max_length", max_length=7, return_offsets=True)
    assert e.input_ids == [2, 8, 9, 3, 0, 0, 0]
    assert e.attention_mask == [1, 1, 1, 1, 0, 0, 0]
    assert e.special_tokens_mask == [1, 0, 0, 1, 1, 1, 1]
    assert e.word_ids[4:] == [None] * 3 and e.sequence_ids[4:] == [None] * 3
    assert e.offsets[4:] == [(0, 0)] * 3 and e.tokens[4:] == ["[PAD]"] * 3
    assert len(tiny.encode("a b", padding="max_length", max_length=7, pad_to_multiple_of=4).input_ids) == 8
    assert len(tiny.encode("a b", padding=True).input_ids) == 4  # longest of one input: nothing to do
    assert len(tiny.encode("a b", padding=True, pad_to_multiple_of=3).input_ids) == 6
    assert len(tiny.encode("a b", pad_to_multiple_of=3).input_ids) == 4  # only with padding
    batch = tiny.encode_batch(["a", "a b a b", "b"], padding="longest")
    assert [len(e.input_ids) for e in batch] == [6, 6, 6]
    assert batch[0].attention_mask == [1, 1, 1, 0, 0, 0]
    batch = tiny.encode_batch(["a", "b"], ["a b", "b"], padding=True)
    assert batch[1].token_type_ids == [0, 0, 0, 1, 1, 0] and batch[1].input_ids[-1] == 0


def test_padding_matches_fast(uncased, fast_uncased):
    texts = ["short", "a somewhat longer sentence here", "mid length text"]
    for kw in [dict(padding=True), dict(padding="max_length", max_length=16), dict(padding="max_length", max_length=4),
               dict(padding=True, max_length=4), dict(max_length=4),
               dict(padding="longest", pad_to_multiple_of=8), dict(padding=True, truncation=True, max_length=5)]:
        want = fast_uncased(texts, return_special_tokens_mask=True, **kw)
        got = uncased.encode_batch(texts, **kw)
        assert [e.input_ids for e in got] == want["input_ids"]
        assert [e.attention_mask for e in got] == want["attention_mask"]
        assert [e.special_tokens_mask for e in got] == want["special_tokens_mask"]
        assert [e.word_ids for e in got] == [want.word_ids(i) for i in range(len(texts))]


def test_encoding_fields_are_a_snapshot(uncased):
    """Derived fields are built on first read, but describe the encoding as made: editing the ids afterwards (an
    MLM collator masking in place) moves nothing; padding after a read extends what was read; pickles carry
    fields, not the tokenizer's tables; the keyword constructor of every field still works."""
    import copy
    import pickle

    e = uncased.encode("unaffable hello")
    want_words, want_tokens = [None, 0, 0, 0, 1, None], ["[CLS]", "una", "##ffa", "##ble", "hello", "[SEP]"]
    e.input_ids[2] = uncased.mask_token_id
    del e.input_ids[4:]
    assert e.word_ids == want_words and e.tokens == want_tokens and len(e.sequence_ids) == 6
    e = uncased.encode("unaffable hello")
    assert e.word_ids == want_words
    [e2] = uncased.encode_batch(["unaffable hello"], padding="max_length", max_length=8)
    assert e2.word_ids == want_words + [None, None] and e2.tokens == want_tokens + ["[PAD]"] * 2
    uncased._pad([e], "max_length", 8, None)  # padding after the fields were read extends them
    assert e == e2 and e.special_tokens_mask == [1, 0, 0, 0, 0, 1, 1, 1]
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        blob = pickle.dumps(e, protocol=proto)
        assert len(blob) < 2000 and pickle.loads(blob) == e
    assert copy.deepcopy(e) == e
    made = Encoding(input_ids=[1, 2], token_type_ids=[0, 0], attention_mask=[1, 1], special_tokens_mask=[1, 1],
                    word_ids=[None, None], sequence_ids=[None, None], offsets=None, tokens=["a", "b"])
    made.word_ids = [0, 0]
    assert made.word_ids == [0, 0] and made.tokens == ["a", "b"]


def test_encode_batch_errors(tiny):
    with pytest.raises(BertkitError):
        tiny.encode_batch("a b")
    with pytest.raises(BertkitError):
        tiny.encode_batch(["a"], ["b", "c"])
    with pytest.raises(BertkitError):
        tiny.encode(None)


# ----------------------------------------------------------------------------------------------- decode
def test_decode_matches_fast(uncased, fast_uncased):
    v = uncased.vocab
    cases = [
        [101, 2023, 2003, 7592, 1012, 2035, 1010, 1005, 1055, 2079, 2025, 102, 0, 5, 2078, 1005, 1056],
        [v["##ing"], v["the"], v["##ing"], v["?"], v["!"]],
        [100, 103, 101],
        [],
        [2003, 99999, 2003],  # out of range: skipped like tokenizers
    ]
    texts = ["Hello, world! It's a test... don't", "naïve café 野口 (x) [MASK] l'été"]
    cases += [fast_uncased(t)["input_ids"] for t in texts]
    for ids in cases:
        for skip in (True, False):
            assert uncased.decode(ids, skip_special_tokens=skip) == fast_uncased.decode(ids, skip_special_tokens=skip)


def test_convert(tiny):
    assert tiny.convert_tokens_to_ids(["un", "zzz"]) == [5, 1]
    assert tiny.convert_tokens_to_ids("hello") == 13
    assert tiny.convert_ids_to_tokens([5, 6]) == ["un", "##aff"]
    assert tiny.convert_ids_to_tokens(0) == "[PAD]"
    with pytest.raises(BertkitError):
        tiny.convert_ids_to_tokens(len(TINY))


# ----------------------------------------------------------------------- options the fast one ignores
@needs_data
def test_never_split_and_no_basic_like_legacy():
    legacy_mod = pytest.importorskip("transformers.models.bert.tokenization_bert_legacy")
    vocab = str(UNCASED / "vocab.txt")
    ref = legacy_mod.BertTokenizerLegacy(vocab_file=vocab, never_split=["HeLLo", "[unused5]"])
    tok = Tokenizer.from_vocab(vocab, never_split=["HeLLo", "[unused5]"])
    for text in ["HeLLo world", "hello HeLLo, [unused5] x[unused5]"]:  # kept whole, not lower-cased
        assert tok.encode(text).input_ids == ref(text)["input_ids"]
    assert tok.tokenize("[unused5] HeLLo") == ["[unused5]", "[UNK]"]
    ref = legacy_mod.BertTokenizerLegacy(vocab_file=vocab, do_basic_tokenize=False)
    tok = Tokenizer.from_vocab(vocab, do_basic_tokenize=False)
    for text in ["hello world", "Hello, world! unaffable"]:
        assert tok.tokenize(text) == ref.tokenize(text)


# -------------------------------------------------------------------------------------- unicode tables
def test_tables_match_tokenizers_on_every_code_point():
    """Our per-character rules (clean, CJK, accents, case, punctuation) against the Rust crate, all of Unicode."""
    tokenizers = pytest.importorskip("tokenizers")
    pre = tokenizers.pre_tokenizers.BertPreTokenizer()
    cps = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    for lower in (True, False):
        for strip in (True, False):
            norm = tokenizers.normalizers.BertNormalizer(
                clean_text=True, handle_chinese_chars=True, strip_accents=strip, lowercase=lower)
            bad = []
            for cp in cps:
                c = chr(cp)
                ours = basic.normalize_char(c, lower, strip)
                if ours and basic.is_chinese_char(c):
                    ours = f" {ours} "
                if ours != norm.normalize_str(c):
                    bad.append(hex(cp))
            assert not bad, f"lowercase={lower} strip={strip}: {bad[:20]} ({len(bad)})"
    bad = []
    for cp in cps:
        c = chr(cp)
        pieces = len(pre.pre_tokenize_str(f"a{c}a"))
        theirs = "space" if pieces == 2 else "punct" if pieces == 3 else "other"
        ours = "space" if c in basic._RUST_WS else "punct" if basic.is_punctuation(c) else "other"
        if ours != theirs:
            bad.append(hex(cp))
    assert not bad, bad[:20]


# ------------------------------------------------------------------------------------------------ cache
def test_cache_is_bounded_and_transparent(tiny):
    texts = [f"a b{'b' * (i % 50)} hello{i} the" for i in range(300)]
    want = [tiny.encode(t, return_offsets=True) for t in texts]
    tiny._ids.clear()
    tiny.cache_size = 10
    for t, w in zip(texts, want):
        assert tiny.encode(t, return_offsets=True) == w
        assert len(tiny._ids) <= 10 + len(t.split()) and len(tiny._flat) <= 10 + len(t.split())
    assert tiny.encode_ids("a b") == [2, 8, 9, 3]
    assert tiny.encode_batch_ids(["a", "b"], add_special_tokens=False) == [[8], [9]]


def test_batch_leaves_the_garbage_collector_as_it_was(tiny):
    # a batch pauses the collector and files its objects under the oldest generation through freeze/unfreeze
    assert gc.isenabled()
    assert tiny.encode_batch(["a b"])[0].input_ids == [2, 8, 9, 3]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        tiny.encode_batch_ids(["a b"])
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()  # the caller's frozen objects stay frozen
    try:
        frozen = gc.get_freeze_count()
        tiny.encode_batch(["a b"], return_offsets=True)
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
