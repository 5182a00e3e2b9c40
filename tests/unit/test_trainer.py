"""The WordPiece vocabulary trainer (bertkit.tokenizer.trainer) and the shared pre-tokenizer.

The expected merges of the hand-made corpora are derived by hand from score(a, b) = count(ab) / (count(a) *
count(b)) in the comments (not by running the code); the incremental counts and the heap's choice are checked
against a full recount and a brute-force argmax (exact fractions) after every merge on seeded random corpora.
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from bertkit.tokenizer import Tokenizer
from bertkit.tokenizer.pretokenize import PreTokenizer, split_chunks
from bertkit.tokenizer.trainer import (
    BERT_RESERVED,
    SPECIALS,
    MergeState,
    TrainerConfig,
    WordCounter,
    learn,
    prepare,
    reserved_tokens,
    train,
)
from bertkit.utils.errors import BertkitError


def cfg(vocab_size: int, **kw) -> TrainerConfig:
    kw.setdefault("min_frequency", 1)
    kw.setdefault("layout", "compact")
    kw.setdefault("score", "ratio")  # the hand derivations below use count(ab) / (count(a) count(b))
    return TrainerConfig(vocab_size=vocab_size, **kw)


# --------------------------------------------------------------------------------------- hand-derived merges
# The corpus of the Hugging Face course's WordPiece chapter: hug 10, pug 5, pun 12, bun 4, hugs 5.
# Alphabet: b h p (initial), ##g ##n ##s ##u. Counts: h 15, p 17, b 4, ##u 36, ##g 20, ##n 16, ##s 5.
#  1. (h,##u) 15/(15*36), (p,##u) 17/(17*36), (b,##u) 4/(4*36), (##u,##g) 20/(36*20), (##u,##n) 16/(36*16) are
#     all 1/36; (##g,##s) 5/(20*5) = 1/20 wins -> ##gs.
#  2. Now ##g 15, ##s 0, ##gs 5: every pair scores 1/36 again ((##u,##g) 15/(36*15), (##u,##gs) 5/(36*5));
#     tie -> the highest pair count: (p,##u) with 17 -> pu.
#  3. p 0, pu 17, ##u 19 (hug, hugs, bun): (h,##u) 15/(15*19) = 1/19, (##u,##gs) 5/(19*5) = 1/19,
#     (b,##u) 4/(4*19) = 1/19, (pu,##n) 12/(17*16) = 3/68, (##u,##g) 10/(19*15), (pu,##g) 5/(17*15),
#     (##u,##n) 4/(19*16). Three-way tie at 1/19 -> count 15: (h,##u) -> hu. (It scored 1/36 before merge 2:
#     merges raise the scores of the pairs around them, the case a static heap gets wrong.)
#  4. h 0, hu 15, ##u 4 (bun): (b,##u) 4/(4*4) = 1/4 wins -> bu.
#  5. bu 4: (hu,##gs) 5/(15*5) = 1/15 beats (bu,##n) 4/(4*16) = 1/16, (pu,##n) 3/68, (hu,##g) 10/(15*15) -> hugs.
COURSE = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
COURSE_ALPHABET = ["b", "h", "p", "##g", "##n", "##s", "##u"]
COURSE_MERGES = [("##g", "##s"), ("p", "##u"), ("h", "##u"), ("b", "##u"), ("hu", "##gs")]


def test_course_corpus_merges_by_hand():
    vocab = learn(dict(COURSE), cfg(5 + 7 + 5))
    assert vocab.merges == COURSE_MERGES
    assert vocab.tokens == [*SPECIALS, *COURSE_ALPHABET, "##gs", "pu", "hu", "bu", "hugs"]


def test_merge_into_an_existing_token_does_not_grow_the_vocab():
    # abc 3, xbc 2 (alphabet a x ##b ##c; counts a 3, x 2, ##b 5, ##c 5):
    #  1. (a,##b) 3/(3*5) = 1/5, (x,##b) 2/(2*5) = 1/5, (##b,##c) 5/(5*5) = 1/5: tie -> count 5: ##bc.
    #  2. ##b 0, ##c 0, ##bc 5: (a,##bc) 3/(3*5) = 1/5, (x,##bc) 2/(2*5) = 1/5 -> count 3: abc.
    #  3. (x,##bc) 2/(2*2) = 1/2 -> xbc. Then no pair is left: the vocabulary stops short of its size.
    vocab = learn({"abc": 3, "xbc": 2}, cfg(5 + 4 + 10))
    assert vocab.merges == [("##b", "##c"), ("a", "##bc"), ("x", "##bc")]
    assert len(vocab.tokens) == 5 + 4 + 3
    # ab 1, abc 1 via the state directly: (a,##b) then (ab,##c) makes "abc"; a second way to "abc" reuses it
    symbols = ["a", "##b", "##c", "##bc"]
    state = MergeState([[0, 1, 2], [0, 3]], [1, 1], symbols)
    first = state.merge(state.best())  # pairs: (a,##b) 1/(2*1), (##b,##c) 1/(1*1), (a,##bc) 1/(2*1) -> ##b##c
    assert state.symbols[first] == "##bc" and first == 3 and len(state.symbols) == 4
    assert state.count[3] == 2 and state.words == [[0, 3], [0, 3]]


def test_repeated_symbol_pairs():
    # aaaa 1: a 1, ##a 3; (a,##a) 1/(1*3) = 1/3 beats (##a,##a) 2/(3*3) = 2/9 -> aa; then (aa,##a) 1/(1*2) = 1/2
    # beats (##a,##a) 1/(2*2) -> aaa; then aaaa.
    assert learn({"aaaa": 1}, cfg(5 + 2 + 3)).merges == [("a", "##a"), ("aa", "##a"), ("aaa", "##a")]
    # x 9, xaaaa 1: x 10, ##a 4; (x,##a) 1/(10*4) = 1/40, (##a,##a) 3/(4*4) = 3/16 -> ##aa (non-overlapping: ##aa ##aa);
    # then ##a 0, ##aa 2: (x,##aa) 1/(10*2) = 1/20, (##aa,##aa) 1/(2*2) = 1/4 -> ##aaaa; then x + ##aaaa.
    assert learn({"x": 9, "xaaaa": 1}, cfg(5 + 2 + 3)).merges == [("##a", "##a"), ("##aa", "##aa"),
                                                                  ("x", "##aaaa")]


def _brute_force(state: MergeState) -> int:
    """The argmax over all pairs of a state rebuilt from scratch from the current words (ties as documented)."""
    fresh = MergeState([list(w) for w in state.words], list(state.freqs), list(state.symbols), state.kind)
    pairs, count = fresh.pairs, fresh.count

    def score(k):
        a, b = MergeState.split_key(k)
        return Fraction(pairs[k], count[a] * count[b]) if state.kind == "ratio" else fresh.score(k)

    def key(k):
        a, b = MergeState.split_key(k)
        return (-score(k), -pairs[k], state.symbols[a], state.symbols[b])

    return min(pairs, key=key)


@pytest.mark.parametrize("kind", ["ratio", "loglik"])
@pytest.mark.parametrize("seed", range(6))
def test_incremental_counts_and_choice_equal_a_recount(seed, kind):
    rng = random.Random(seed)
    letters = "ab" if seed < 2 else "abcde"  # two letters: many repeats, overlaps and re-made tokens
    counts = {}
    for _ in range(60):
        w = "".join(rng.choice(letters) for _ in range(rng.randint(1, 7)))
        counts[w] = counts.get(w, 0) + rng.choice([1, 1, 2, 3, 7])
    words, freqs, symbols, _ = prepare(counts, cfg(10_000))
    state = MergeState(words, freqs, symbols, kind)
    steps = 0
    while True:
        key = state.best()
        pairs, count = state.recount()
        assert {k: c for k, c in state.pairs.items() if c} == pairs
        assert state.count == count and state.total == sum(count)
        if key is None:
            assert not pairs
            break
        expected = _brute_force(state)
        assert key == expected, (steps, state.symbols[key >> 22], state.symbols[expected >> 22])
        state.merge(key)
        steps += 1
    assert steps > 10
    assert all(len(w) == 1 for w in state.words)  # at the end every word is one symbol


def test_loglik_score_is_the_rise_in_unigram_log_likelihood():
    from math import log

    def loglik(counts):
        n = sum(counts)
        return sum(c * log(c / n) for c in counts if c)

    # hug 10, pug 5, pun 12, bun 4, hugs 5: merge (##u, ##g) by hand and compare the likelihoods
    words, freqs, symbols, _ = prepare(dict(COURSE), cfg(100))
    state = MergeState(words, freqs, symbols, "loglik")
    key = next(k for k in state.pairs if [state.symbols[i] for i in MergeState.split_key(k)] == ["##u", "##g"])
    before = loglik(state.count)
    predicted = state.score(key)
    state.merge(key)
    assert predicted == pytest.approx(loglik(state.count) - before, rel=1e-12)
    # frequent pairs win under loglik, rare ones under ratio
    assert learn(dict(COURSE), cfg(5 + 7 + 1, score="loglik")).merges == [("##u", "##g")]


# ---------------------------------------------------------------------------------------- layout, options
def test_reserved_ids_small_and_large(data_dir):
    assert reserved_tokens(9_999) == SPECIALS
    big = reserved_tokens(10_000)
    assert big == BERT_RESERVED and len(big) == 999
    assert [big.index(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == [0, 100, 101, 102, 103]
    original = (data_dir / "vocab" / "bert-base-uncased" / "vocab.txt")
    if not original.is_file():
        pytest.skip(f"vocabulary missing: {original}")
    assert list(big) == original.read_text(encoding="utf-8").splitlines()[:999]
    assert reserved_tokens(50_000, "compact") == SPECIALS and reserved_tokens(100, "bert") == BERT_RESERVED
    with pytest.raises(BertkitError, match="layout"):
        reserved_tokens(100, "odd")


def test_vocab_size_too_small():
    with pytest.raises(BertkitError, match="too small"):
        TrainerConfig(vocab_size=5, layout="compact").check()
    with pytest.raises(BertkitError, match=r"too small: 5 reserved tokens and 7 alphabet symbols .* need 12"):
        learn(dict(COURSE), cfg(11))


def test_min_frequency_and_long_words():
    counts = {"ab": 1, "cd": 2, "x" * 101: 5}
    vocab = learn(counts, cfg(5 + 2 + 1, min_frequency=2))
    assert vocab.tokens == [*SPECIALS, "c", "##d", "cd"]
    assert vocab.stats["words_kept"] == 1 and vocab.stats["words_dropped"] == 2
    with pytest.raises(BertkitError, match="no words to learn from"):
        learn({"ab": 1}, cfg(100, min_frequency=2))


def test_limit_alphabet_drops_words_with_other_characters():
    # e 6, t 4 (+ ##t), z 1: with two characters kept, "zet" is left out
    vocab = learn({"te": 4, "et": 2, "zet": 1}, cfg(100, limit_alphabet=2))
    assert vocab.stats["alphabet_chars"] == 2 and vocab.stats["words_outside_alphabet"] == 1
    assert not any("z" in t for t in vocab.tokens)


def test_distinct_word_cap_prunes_the_rarest():
    counter = WordCounter(PreTokenizer(), max_words=3)
    counter.batch_chunks = 4
    counter.add(["the cat the dog", "the a b c d e", "the cat the cat"])
    counts = counter.finish()
    assert len(counts) <= 3 and counter.pruned > 0
    assert counts["the"] == 5  # the frequent word survives every pruning with its full count


def test_cased_and_uncased():
    text = ["Hello hello HELLO Café"] * 2
    uncased = train(text, cfg(200))
    cased = train(text, cfg(200, lowercase=False))
    assert "hello" in uncased.tokens and "cafe" in uncased.tokens and "H" not in uncased.tokens
    assert {"Hello", "hello", "HELLO", "Café"} <= set(cased.tokens)
    assert uncased.tokenizer_config().do_lower_case and not cased.tokenizer_config().do_lower_case


def test_empty_input():
    with pytest.raises(BertkitError, match="no words"):
        train(["", "   ", "\n"], cfg(100))


# ------------------------------------------------------------------------------------- the pre-tokenizer
@pytest.fixture(scope="module")
def wiki(data_dir) -> list[str]:
    """The first 6,000 paragraphs of the last Wikipedia shard."""
    from itertools import chain, islice

    from bertkit.data.corpus import read_documents

    shard = data_dir / "wikipedia_en" / "enwiki_part08.txt.gz"
    if not shard.is_file():
        pytest.skip(f"data missing: {shard}")
    return list(islice(chain.from_iterable(read_documents(shard)), 6000))


def test_pretokenizer_matches_bert_normalizer_and_pretokenizer(sst2_sentences, wiki):
    tokenizers = pytest.importorskip("tokenizers")
    texts = sst2_sentences[:2000] + wiki[:3000] + ["Héllo\x0bWORLD\u00a0x\x85y İs ΣΑΣ 東京 a\u0301b"]
    for lower in (True, False):
        norm = tokenizers.normalizers.BertNormalizer(lowercase=lower)
        pre = tokenizers.pre_tokenizers.BertPreTokenizer()
        ours = PreTokenizer(lowercase=lower)
        for t in texts:
            theirs = [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(t))]
            assert ours.words(t) == theirs, t


def test_tokenizer_and_pretokenizer_share_the_chunks():
    from bertkit.tokenizer import chunks

    assert chunks.split_chunks is split_chunks  # the Tokenizer's chunk engine cuts with the same function
    # \x0b and \x85 are whitespace to str.split() but removed (not split on) by BERT
    assert split_chunks("a\x0bb  c\x85d") == ["a\x0bb", "c\x85d"]


# ------------------------------------------------------------------------ output loads in both tokenizers
@pytest.fixture(scope="module")
def trained(tmp_path_factory, wiki) -> Path:
    """A 10,000-token (BERT layout) vocabulary learned from about 1.5 MB of Wikipedia, saved."""
    out = tmp_path_factory.mktemp("vocab")
    train(wiki[:5000], TrainerConfig(vocab_size=10_000)).save(out)
    return out


def test_saved_vocab_loads_in_bertkit_and_transformers_alike(trained, sst2_sentences, wiki):
    transformers = pytest.importorskip("transformers")
    ours = Tokenizer.from_pretrained(trained)
    fast = transformers.BertTokenizerFast.from_pretrained(str(trained))
    assert len(ours) == len(fast) == 10_000
    assert [ours.pad_token_id, ours.unk_token_id, ours.cls_token_id, ours.sep_token_id, ours.mask_token_id] == \
        [0, 100, 101, 102, 103] == [fast.pad_token_id, fast.unk_token_id, fast.cls_token_id, fast.sep_token_id,
                                    fast.mask_token_id]
    texts = sst2_sentences[-872:] + wiki[5000:]  # SST-2 dev, and paragraphs not trained on
    theirs = fast(texts)["input_ids"]
    assert [e.input_ids for e in ours.encode_batch(texts)] == theirs
    assert sum(i == 100 for ids in theirs for i in ids) < 0.01 * sum(map(len, theirs))
