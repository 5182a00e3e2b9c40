"""Learn a WordPiece vocabulary from raw text: the likelihood-based merges of Schuster & Nakajima (2012).

Reference: M. Schuster and K. Nakajima, "Japanese and Korean Voice Search", ICASSP 2012, section 3.1 (the
WordPiece model as BERT uses it, Devlin et al. 2019 section A.2), in the form the BERT explainers give it
(Hugging Face course, "WordPiece tokenization"): start from the characters, the first character of a word in
its plain form ``c`` and the others in their continuation form ``##c``; then repeatedly add the pair ``(a, b)``
whose merge raises the likelihood of the training words the most, which for a unigram model of the symbols is
the pair of highest

    score(a, b) = count(ab) / (count(a) * count(b))

where the counts are those of the current segmentation of the word multiset. Merging ``a`` with ``##b`` gives
``ab`` (word-initial stays initial), ``##a`` with ``##b`` gives ``##ab``. Encoding with the result is BERT's
greedy longest-match-first WordPiece (:mod:`bertkit.tokenizer.wordpiece`), as for any BERT vocabulary.

Pipeline and the choices made (see :class:`TrainerConfig`):

1. **Words.** Texts are pre-tokenized by :class:`~bertkit.tokenizer.pretokenize.PreTokenizer`, the very
   pre-tokenization of :class:`~bertkit.tokenizer.Tokenizer`, and counted as distinct words (a dict
   word -> count); memory is bounded by distinct words, not by text size. When the dict exceeds
   ``max_words`` the rarest are pruned as word2vec's ``ReduceVocab`` does (drop counts <= t, then t += 1):
   a word pruned and seen again restarts from zero, so counts of rare words are lower bounds.
   Then words seen fewer than ``min_frequency`` times are dropped (default 2: the once-seen words are about
   half the distinct words of Wikipedia, mostly typos, numbers and names, and BertWordPieceTokenizer uses 2
   too), as are words over 100 characters (WordPiece turns them into one [UNK] whatever the vocabulary).
2. **Alphabet.** The ``limit_alphabet`` most frequent characters of the kept words (ties by code point),
   each in the forms that occur (initial, continuation). A word with another character is left out of the
   merges: WordPiece would encode the whole word as [UNK] anyway.
3. **Merges.** Each word is a list of symbol ids. Pair counts, symbol counts, and an index pair -> words
   holding it are kept up to date after each merge (only the words holding the merged pair are touched; no
   recount of the corpus). Because a merge lowers ``count(a)`` and ``count(b)``, it *raises* the score of every
   other pair holding ``a`` or ``b``, so a heap of static scores would go stale in the wrong direction; every
   pair whose count or whose symbols' counts changed is pushed again with its current score, and a popped
   entry is taken only if its stored score and count are still current (else it is dropped). Every live pair
   thus always has a current entry, and the first current entry popped is the true argmax.
   Ties: the higher pair count, then the smaller ``(a, b)`` as strings. Scores are Python floats of an
   exact integer ratio, so equal ratios compare equal.
   ``score="loglik"`` replaces the ratio by the exact rise of the unigram log-likelihood
   ``sum_s c_s log(c_s / N)`` that the merge brings (``N`` = all symbol occurrences). The ratio ignores how
   often a pair occurs, so on a large corpus it spends most merges spelling out rare words (pairs of rare
   characters score highest) and leaves frequent words in pieces; the log-likelihood gain weighs in the
   frequency (measured in BENCHMARKS.md). Its scores also depend on ``N``, which shrinks with every merge and
   only lowers the scores of untouched pairs, so the stale entries are upper bounds and a popped entry whose
   score is stale is put back with its current one (lazy greedy); the choice stays the exact argmax.
   A merge whose string is already a symbol (``ab`` + ``##c`` and later ``a`` + ``##bc``) adds to that symbol
   and does not grow the vocabulary; the loop stops at ``vocab_size`` symbols or when no pair is left.

Vocabulary order: the reserved tokens (:func:`reserved_tokens`), the alphabet (initial forms by code point, then
continuation forms), then the merged tokens in the order they were learned.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from bertkit.tokenizer.pretokenize import PreTokenizer, split_chunks
from bertkit.tokenizer.vocab import CONFIG_FILE, VOCAB_FILE, TokenizerConfig, save_config, save_vocab
from bertkit.tokenizer.wordpiece import MAX_INPUT_CHARS_PER_WORD, PREFIX
from bertkit.utils.errors import BertkitError

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# bert-base-uncased's ids 0..998: [PAD], [unused0..98], [UNK] [CLS] [SEP] [MASK] (100..103), [unused99..993]
BERT_RESERVED = ("[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                 *(f"[unused{i}]" for i in range(99, 994)))
BERT_LAYOUT_MIN = 10_000  # "auto" uses BERT's layout from this vocab size up (its 999 slots are then <= 10%)
LAYOUTS = ("auto", "bert", "compact")
# ratio: count(ab) / (count(a) count(b)), the BERT explainers' shortcut score;
# loglik (the default): the exact rise of the unigram log-likelihood sum_s c_s log(c_s / N) that the merge brings
SCORES = ("ratio", "loglik")

_SHIFT = 22  # pair key = a << _SHIFT | b (symbol ids below 4M)
_MASK = (1 << _SHIFT) - 1


def reserved_tokens(vocab_size: int, layout: str = "auto") -> tuple[str, ...]:
    """The tokens that come first in the vocabulary, at these ids.

    ``"bert"``: bert-base-uncased's layout exactly: [PAD]=0, [unused0]..[unused98]=1..99, [UNK]=100, [CLS]=101,
    [SEP]=102, [MASK]=103, [unused99]..[unused993]=104..998 (999 tokens). ``"compact"``: [PAD] [UNK] [CLS]
    [SEP] [MASK] at 0..4. ``"auto"``: ``"bert"`` when ``vocab_size >= 10,000``, else ``"compact"``.
    """
    if layout not in LAYOUTS:
        raise BertkitError(f"layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = "bert" if vocab_size >= BERT_LAYOUT_MIN else "compact"
    return BERT_RESERVED if layout == "bert" else SPECIALS


@dataclass
class TrainerConfig:
    """Options of :func:`train`.

    Args:
        vocab_size: size of the whole vocabulary (reserved tokens and alphabet included).
        lowercase: lower-case (and, unless ``strip_accents`` says otherwise, strip accents) as uncased BERT.
        strip_accents: None = same as ``lowercase``.
        min_frequency: words seen fewer times are not learned from.
        max_words: bound on distinct words held while counting (rarest pruned beyond it).
        limit_alphabet: at most this many distinct characters (the most frequent).
        layout: where the special tokens go (:func:`reserved_tokens`).
        score: ``"loglik"`` (default: the merge that most raises the likelihood) or ``"ratio"`` (the explainers'
            count(ab) / (count(a) count(b)) shortcut), see :data:`SCORES` and the module docstring.
    """

    vocab_size: int = 30_522
    lowercase: bool = True
    strip_accents: bool | None = None
    min_frequency: int = 2
    max_words: int = 4_000_000
    limit_alphabet: int = 1_000
    layout: str = "auto"
    score: str = "loglik"

    def check(self) -> None:
        for name in ("vocab_size", "min_frequency", "max_words", "limit_alphabet"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BertkitError(f"{name}: expected a whole number >= 1, got {value!r}")
        if self.score not in SCORES:
            raise BertkitError(f"score {self.score!r}: expected one of {', '.join(SCORES)}")
        reserved = reserved_tokens(self.vocab_size, self.layout)
        if self.vocab_size <= len(reserved):
            raise BertkitError(f"vocab size {self.vocab_size} is too small: the {len(reserved)} reserved tokens "
                               "alone fill it")


@dataclass
class TrainedVocab:
    """The result of :func:`train`: the vocabulary in id order, the merges in order, and counts for the log."""

    tokens: list[str]
    merges: list[tuple[str, str]]
    config: TrainerConfig
    stats: dict[str, Any] = field(default_factory=dict)

    def tokenizer_config(self) -> TokenizerConfig:
        return TokenizerConfig(do_lower_case=self.config.lowercase, strip_accents=self.config.strip_accents)

    def save(self, folder: str | Path) -> None:
        """Write ``vocab.txt`` and ``tokenizer_config.json`` into the existing ``folder``."""
        d = Path(folder)
        if not d.is_dir():
            raise BertkitError(f"{d}: output folder does not exist")
        save_vocab(self.tokens, d / VOCAB_FILE)
        save_config(self.tokenizer_config(), d / CONFIG_FILE)


# -------------------------------------------------------------------------------------------------- words
class WordCounter:
    """Distinct pre-tokenized words and their counts, streamed, with at most about ``max_words`` held.

    Chunks are counted per batch in C (``Counter.update`` on ``str.split`` output); each distinct chunk of a
    batch is then pre-tokenized once (cached across batches) and its count added to its words.
    """

    batch_chunks = 1_000_000  # whitespace chunks gathered before they are turned into words

    def __init__(self, pretokenizer: PreTokenizer, max_words: int = 4_000_000):
        self.pre = pretokenizer
        self.max_words = max_words
        self.counts: dict[str, int] = {}
        self.texts = 0
        self.chunks = 0
        self.pruned = 0  # distinct words dropped by pruning
        self.min_reduce = 1
        self._batch: Counter[str] = Counter()
        self._pending = 0

    def add(self, texts: Iterable[str]) -> None:
        """Count the words of more texts."""
        batch, limit = self._batch, self.batch_chunks
        for text in texts:
            chunks = split_chunks(text)
            batch.update(chunks)
            self._pending += len(chunks)
            self.texts += 1
            if self._pending >= limit:
                self._flush()
                batch = self._batch

    def _flush(self) -> None:
        counts, words_of = self.counts, self.pre.chunk_words
        get = counts.get
        for chunk, n in self._batch.items():
            for w in words_of(chunk):
                counts[w] = get(w, 0) + n
        self.chunks += self._pending
        self._batch, self._pending = Counter(), 0
        while len(counts) > self.max_words:
            self._prune()

    def _prune(self) -> None:
        t = self.min_reduce
        drop = [w for w, c in self.counts.items() if c <= t]
        for w in drop:
            del self.counts[w]
        self.pruned += len(drop)
        self.min_reduce += 1

    def finish(self) -> dict[str, int]:
        """Flush the last batch and return word -> count."""
        self._flush()
        return self.counts


# ------------------------------------------------------------------------------------------------- merges
class MergeState:
    """The segmentation of a word multiset into symbols, with pair and symbol counts kept incrementally.

    Args:
        words: each word as a list of symbol ids (modified in place by merges).
        freqs: the count of each word.
        symbols: symbol id -> token string (``##`` for continuations); extended by new merges.
    """

    def __init__(self, words: list[list[int]], freqs: list[int], symbols: list[str], score: str = "ratio"):
        if score not in SCORES:
            raise BertkitError(f"score {score!r}: expected one of {', '.join(SCORES)}")
        self.kind = score
        if len(symbols) > _MASK:
            raise BertkitError(f"too many symbols ({len(symbols)})")
        self.words, self.freqs = words, freqs
        self.symbols = symbols
        self.ids = {s: i for i, s in enumerate(symbols)}
        count = self.count = [0] * len(symbols)  # symbol -> occurrences in the segmented multiset
        pairs: dict[int, int] = {}  # pair key -> occurrences
        where: dict[int, list[int]] = {}  # pair key -> words that hold (or once held) the pair
        for wi, (w, f) in enumerate(zip(words, freqs)):
            for s in w:
                count[s] += f
            prev = -1
            for k in map(_key, w, w[1:]):
                pairs[k] = pairs.get(k, 0) + f
                if k != prev:  # a word lists itself once per run of the same pair; duplicates are harmless
                    lst = where.get(k)
                    if lst is None:
                        where[k] = [wi]
                    elif lst[-1] != wi:
                        lst.append(wi)
                prev = k
        self.pairs, self.where = pairs, where
        self.total = sum(count)  # N: symbol occurrences in the segmented multiset
        self.by_symbol: list[set[int]] = [set() for _ in symbols]  # symbol -> pair keys that hold it
        for k in pairs:
            self.by_symbol[k >> _SHIFT].add(k)
            self.by_symbol[k & _MASK].add(k)
        self.heap = [self._entry(k) for k in pairs]
        heapq.heapify(self.heap)

    def score(self, key: int) -> float:
        """The score of pair ``key`` now (see :data:`SCORES`)."""
        c = self.pairs[key]
        ca, cb = self.count[key >> _SHIFT], self.count[key & _MASK]
        if self.kind == "ratio":
            return c / (ca * cb)
        # loglik: f(n) + f(ca - n) + f(cb - n) - f(ca) - f(cb) + f(N) - f(N - n), f(x) = x log x; for a == b
        # the occurrences left are ca - 2n (clamped: overlapping pairs, as in "aaa", overcount the merges)
        n, total = c, self.total
        if key >> _SHIFT == key & _MASK:
            return _xlogx(n) + _xlogx(max(ca - 2 * n, 0)) - _xlogx(ca) + _xlogx(total) - _xlogx(total - n)
        return (_xlogx(n) + _xlogx(ca - n) + _xlogx(cb - n) - _xlogx(ca) - _xlogx(cb) + _xlogx(total)
                - _xlogx(total - n))

    def _entry(self, k: int) -> tuple:
        return (-self.score(k), -self.pairs[k], self.symbols[k >> _SHIFT], self.symbols[k & _MASK], k)

    def best(self) -> int | None:
        """The key of the pair to merge next (highest score; ties documented above), or None if none is left.

        An entry is taken only if its pair count and score are current. An entry whose count is stale is
        dropped (the pair has a newer one); one whose score is stale is put back with its current score. The
        scores that can rise (pairs around a merge) are pushed eagerly by :meth:`merge`; any other score can
        only fall (``loglik``: the total N shrinks), so every stored score bounds its pair's current one from
        above and the first current entry is the maximum.
        """
        heap, pairs, score = self.heap, self.pairs, self.score
        while heap:
            ns, nc, sa, sb, k = heap[0]
            c = pairs.get(k, 0)
            if not c or nc != -c:
                heapq.heappop(heap)
                continue
            current = -score(k)
            if current == ns:
                return k
            heapq.heapreplace(heap, (current, nc, sa, sb, k))
        return None

    def merge(self, key: int) -> int:
        """Merge every occurrence of the pair ``key`` (left to right within a word); returns the new symbol id."""
        a, b = key >> _SHIFT, key & _MASK
        text = self.symbols[a] + self.symbols[b][len(PREFIX):]
        m = self.ids.get(text)
        if m is None:
            m = len(self.symbols)
            if m > _MASK:
                raise BertkitError(f"too many symbols ({m})")
            self.symbols.append(text)
            self.ids[text] = m
            self.count.append(0)
            self.by_symbol.append(set())
        words, freqs, where, pairs = self.words, self.freqs, self.where, self.pairs
        delta: dict[int, int] = {}
        merged = 0
        touched: list[int] = []
        for wi in where.pop(key, ()):
            w = words[wi]
            n = len(w)
            i = 0
            out: list[int] = []
            hits = 0
            while i < n:
                x = w[i]
                if x == a and i + 1 < n and w[i + 1] == b:
                    out.append(m)
                    i += 2
                    hits += 1
                else:
                    out.append(x)
                    i += 1
            if not hits:
                continue  # a stale entry of the index: the word lost the pair to an earlier merge
            f = freqs[wi]
            merged += hits * f
            for k in map(_key, w, w[1:]):
                delta[k] = delta.get(k, 0) - f
            for k in map(_key, out, out[1:]):
                delta[k] = delta.get(k, 0) + f
            words[wi] = out
            touched.append(wi)
        count = self.count
        count[a] -= merged
        count[b] -= merged
        count[m] += merged
        self.total -= merged
        by_symbol = self.by_symbol
        rescore: set[int] = set()
        for k, d in delta.items():
            if not d:
                continue
            c = pairs.get(k, 0) + d
            if c:
                if c == d:  # a pair new to the multiset
                    by_symbol[k >> _SHIFT].add(k)
                    by_symbol[k & _MASK].add(k)
                pairs[k] = c
                rescore.add(k)
            else:
                del pairs[k]
        # index the words under the pairs that hold the new symbol (the others were indexed already)
        for wi in touched:
            w = words[wi]
            for k in map(_key, w, w[1:]):
                if (k >> _SHIFT == m or k & _MASK == m) and k in pairs:
                    lst = where.get(k)
                    if lst is None:
                        where[k] = [wi]
                    elif lst[-1] != wi:
                        lst.append(wi)
        # the counts of a, b and m changed: so did the score of every pair that holds one of them
        for s in {a, b, m}:
            live = {k for k in by_symbol[s] if k in pairs}
            by_symbol[s] = live
            rescore |= live
        push, heap, entry = heapq.heappush, self.heap, self._entry
        for k in rescore:
            push(heap, entry(k))
        if len(heap) > 4 * len(pairs) + 1_000_000:  # drop the stale entries now and then
            self.heap = [entry(k) for k in pairs]
            heapq.heapify(self.heap)
        return m

    def recount(self) -> tuple[dict[int, int], list[int]]:
        """Pair and symbol counts computed from scratch (for tests: they must equal the incremental ones)."""
        pairs: dict[int, int] = {}
        count = [0] * len(self.symbols)
        for w, f in zip(self.words, self.freqs):
            for s in w:
                count[s] += f
            for k in map(_key, w, w[1:]):
                pairs[k] = pairs.get(k, 0) + f
        return pairs, count

    @staticmethod
    def split_key(key: int) -> tuple[int, int]:
        return key >> _SHIFT, key & _MASK


def _key(a: int, b: int) -> int:
    return a << _SHIFT | b


def _xlogx(x: int) -> float:
    return x * math.log(x) if x > 0 else 0.0


# ------------------------------------------------------------------------------------------------ training
def alphabet_of(counts: dict[str, int], limit: int) -> tuple[list[str], set[str]]:
    """The alphabet symbols (initial forms by code point, then ``##`` forms) and the set of kept characters."""
    freq: dict[str, int] = {}
    for w, c in counts.items():
        for ch in w:
            freq[ch] = freq.get(ch, 0) + c
    chars = set(sorted(freq, key=lambda ch: (-freq[ch], ch))[:limit])
    initial: set[str] = set()
    cont: set[str] = set()
    for w in counts:
        if w[0] in chars:
            initial.add(w[0])
        cont.update(w[1:])
    cont &= chars
    return sorted(initial) + [PREFIX + ch for ch in sorted(cont)], chars


def prepare(counts: dict[str, int], config: TrainerConfig) -> tuple[list[list[int]], list[int], list[str], dict]:
    """Words -> (symbol-id lists, counts, alphabet symbols, stats) for :class:`MergeState`."""
    kept = {w: c for w, c in counts.items() if c >= config.min_frequency and len(w) <= MAX_INPUT_CHARS_PER_WORD}
    symbols, chars = alphabet_of(kept, config.limit_alphabet)
    ids = {s: i for i, s in enumerate(symbols)}
    words: list[list[int]] = []
    freqs: list[int] = []
    outside = 0
    for w, c in kept.items():
        if not chars.issuperset(w):
            outside += 1
            continue
        words.append([ids[w[0]], *[ids[PREFIX + ch] for ch in w[1:]]])
        freqs.append(c)
    stats = {"distinct_words": len(counts), "words_kept": len(words), "words_dropped": len(counts) - len(kept),
             "words_outside_alphabet": outside, "alphabet_chars": len(chars), "alphabet_symbols": len(symbols)}
    return words, freqs, symbols, stats


Progress = Callable[..., Any]  # e.g. tqdm: progress(total=N, desc=...) -> object with update(n) and close()


def learn(counts: dict[str, int], config: TrainerConfig, progress: Progress | None = None) -> TrainedVocab:
    """Learn the vocabulary from word counts (see the module docstring)."""
    config.check()
    reserved = reserved_tokens(config.vocab_size, config.layout)
    t0 = time.perf_counter()
    words, freqs, symbols, stats = prepare(counts, config)
    if not words:
        raise BertkitError(f"no words to learn from (none seen at least {config.min_frequency} times)")
    target = config.vocab_size - len(reserved)
    if len(symbols) > target:
        raise BertkitError(f"vocab size {config.vocab_size} is too small: {len(reserved)} reserved tokens and "
                           f"{len(symbols)} alphabet symbols ({stats['alphabet_chars']} characters) need "
                           f"{len(reserved) + len(symbols)}; raise it or lower the alphabet limit")
    state = MergeState(words, freqs, symbols, config.score)
    stats["prepare_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    merges: list[tuple[str, str]] = []
    bar = progress(total=target - len(symbols), desc="merges", unit="tok") if progress else None
    steps = 0
    while len(state.symbols) < target:
        key = state.best()
        if key is None:
            break
        a, b = MergeState.split_key(key)
        pair = (state.symbols[a], state.symbols[b])
        before = len(state.symbols)
        state.merge(key)
        steps += 1
        if len(state.symbols) > before:
            merges.append(pair)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    stats.update(merge_s=time.perf_counter() - t1, merge_steps=steps, merges=len(merges),
                 vocab_size=len(reserved) + len(state.symbols), reserved=len(reserved))
    # no learned token can equal a reserved one: those hold "[", which is always a word of its own
    tokens = [*reserved, *state.symbols]
    return TrainedVocab(tokens, merges, config, stats)


def count_words(texts: Iterable[str], config: TrainerConfig) -> WordCounter:
    """Count the pre-tokenized words of ``texts`` (the first stage of :func:`train`)."""
    pre = PreTokenizer(lowercase=config.lowercase, strip_accents=config.strip_accents)
    counter = WordCounter(pre, config.max_words)
    counter.add(texts)
    counter.finish()
    return counter


def train(texts: Iterable[str], config: TrainerConfig, progress: Progress | None = None) -> TrainedVocab:
    """Learn a WordPiece vocabulary of ``config.vocab_size`` tokens from an iterable of texts.

    Args:
        texts: any iterable of strings (paragraphs, lines); streamed once.
        config: the options (:class:`TrainerConfig`).
        progress: optional progress-bar factory such as ``tqdm.tqdm`` (called with ``total``, ``desc``,
            ``unit``), for the merge loop; the tokenizer layer itself imports no third-party module.

    Returns:
        :class:`TrainedVocab`; ``.save(folder)`` writes ``vocab.txt`` and ``tokenizer_config.json``.
    """
    config.check()
    t0 = time.perf_counter()
    counter = count_words(texts, config)
    if not counter.counts:
        raise BertkitError("the input holds no words")
    count_s = time.perf_counter() - t0
    vocab = learn(counter.counts, config, progress)
    vocab.stats = {"texts": counter.texts, "chunks": counter.chunks, "pruned_words": counter.pruned,
                   "count_s": count_s, **vocab.stats}
    return vocab


__all__ = ["TrainerConfig", "TrainedVocab", "WordCounter", "MergeState", "train", "learn", "count_words",
           "reserved_tokens", "BERT_RESERVED", "SPECIALS"]
