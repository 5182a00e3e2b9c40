"""Tokenizer references and mismatch reports for the parity tests.

Two references per vocabulary:
- ``BertTokenizerFast`` (Rust ``tokenizers``): the one bertkit must match, offsets included.
- ``BertTokenizerLegacy`` (transformers' pure-Python port of Google's ``tokenization.py``): must match too,
  except on inputs where it disagrees with the fast one (counted and pinned by the tests).

Note: in transformers 5, ``BertTokenizerFast(vocab_file=...)`` silently ignores the file and builds a
5-token vocabulary; the vocabulary has to be passed as ``vocab=`` (a dict). ``Refs.build`` checks the result.

The legacy tokenizer is slow (about 1 MB/s), so ``LegacyMemo`` memoises it exactly: the per-word
``WordpieceTokenizer.tokenize`` (a pure function of its argument, given the vocabulary) is wrapped with a
cache on a private instance, and the whole tokenize -> ids step is cached per distinct text within one sweep.
The path is otherwise the legacy tokenizer's own (``tokenize``, ``convert_tokens_to_ids``,
``build_inputs_with_special_tokens``, ``create_token_type_ids_from_sequences``);
``test_legacy_memo_is_exact`` checks it against the plain ``__call__`` on real data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from corpora import VOCABS

Pair = tuple[str, str]


def load_vocab(path: Path) -> dict[str, int]:
    """vocab.txt -> {token: line number}, exactly as BERT reads it."""
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}


class MemoWordpiece:
    """A ``WordpieceTokenizer`` whose ``tokenize`` is cached per input string."""

    def __init__(self, inner):
        self.inner = inner
        self.cache: dict[str, tuple[str, ...]] = {}

    def tokenize(self, text: str) -> list[str]:
        out = self.cache.get(text)
        if out is None:
            out = self.cache[text] = tuple(self.inner.tokenize(text))
        return list(out)

    def __getattr__(self, name):  # vocab, unk_token, max_input_chars_per_word
        return getattr(self.inner, name)


class LegacyMemo:
    """``BertTokenizerLegacy`` input_ids / token_type_ids, memoised (see module docstring)."""

    def __init__(self, legacy):
        self.tok = legacy
        legacy.wordpiece_tokenizer = MemoWordpiece(legacy.wordpiece_tokenizer)

    def encode_all(
        self, texts: Sequence[str], pairs: Sequence[str] | None = None
    ) -> list[tuple[list[int], list[int]]]:
        """[(input_ids, token_type_ids)] with [CLS]/[SEP], no truncation."""
        tok = self.tok
        seen: dict[str, list[int]] = {}

        def ids(text: str) -> list[int]:
            out = seen.get(text)
            if out is None:
                out = seen[text] = tok.convert_tokens_to_ids(tok.tokenize(text))
            return out

        result = []
        for i, text in enumerate(texts):
            a = ids(text)
            b = ids(pairs[i]) if pairs is not None else None
            result.append(
                (tok.build_inputs_with_special_tokens(a, b), tok.create_token_type_ids_from_sequences(a, b))
            )
        return result


@dataclass
class Refs:
    """The references and bertkit's tokenizer for one vocabulary folder."""

    name: str
    vocab_dir: Path
    do_lower_case: bool
    fast: Any
    legacy: Any  # plain BertTokenizerLegacy, never patched
    legacy_memo: LegacyMemo
    _ours: Any = field(default=None, repr=False)

    @classmethod
    def build(cls, vocab_dir: Path) -> "Refs":
        from transformers import BertTokenizerFast
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

        config = json.loads((vocab_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
        lower = bool(config["do_lower_case"])
        vocab_file = vocab_dir / "vocab.txt"
        vocab = load_vocab(vocab_file)
        fast = BertTokenizerFast(vocab=vocab, do_lower_case=lower, tokenize_chinese_chars=True, strip_accents=None)
        if fast.get_vocab() != vocab or fast.cls_token_id != vocab["[CLS]"]:
            raise AssertionError(f"BertTokenizerFast did not load {vocab_file}")

        def legacy():
            return BertTokenizerLegacy(vocab_file=str(vocab_file), do_lower_case=lower)

        return cls(vocab_dir.name, vocab_dir, lower, fast, legacy(), LegacyMemo(legacy()))

    @property
    def ours(self):
        """bertkit's ``Tokenizer.from_pretrained(vocab_dir)``, built on first use."""
        if self._ours is None:
            from bertkit.tokenizer import Tokenizer

            self._ours = Tokenizer.from_pretrained(self.vocab_dir)
        return self._ours

    # -- reference outputs -------------------------------------------------------------------------------
    def fast_batch(self, texts: Sequence[str], pairs: Sequence[str] | None = None, **kwargs) -> dict:
        """One batch call of the fast reference; returns the BatchEncoding (lists, offsets as tuples)."""
        return self.fast(
            list(texts),
            list(pairs) if pairs is not None else None,
            add_special_tokens=True,
            return_token_type_ids=True,
            return_offsets_mapping=True,
            **kwargs,
        )

    def tokens(self, ids: Sequence[int]) -> list[str]:
        return self.fast.convert_ids_to_tokens(list(ids))


CHUNK = 4000  # lines per batch call in a sweep

# Lines on which (measured with transformers 5.23.0 / tokenizers 0.23.3) BertTokenizerFast and BertTokenizerLegacy give different ids, per corpus (all 4 vocabularies).
EXPECTED_DISAGREEMENTS: dict[str, dict[str, int]] = {
    "sst2": dict.fromkeys(VOCABS, 0),
    "mrpc": dict.fromkeys(VOCABS, 0),
    "rte": dict.fromkeys(VOCABS, 0),
    "conll": dict.fromkeys(VOCABS, 0),
    "squad": dict.fromkeys(VOCABS, 0),
    # 2 with bert-base-uncased: final sigma, see test_reference_disagreements.
    "wiki": {**dict.fromkeys(VOCABS, 0), "bert-base-uncased": 2},
}




def unzip(pairs: Sequence[Pair]) -> tuple[list[str], list[str]]:
    return [a for a, _ in pairs], [b for _, b in pairs]


# -- mismatch reports ----------------------------------------------------------------------------------
def _clip(s: str, n: int = 300) -> str:
    r = repr(s)
    return r if len(r) <= n else r[: n - 20] + " ... " + r[-15:]


def first_difference(a: Sequence, b: Sequence) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


@dataclass
class Mismatches:
    """Mismatches of one field over a corpus: the count and the first few, with a readable diff."""

    what: str  # e.g. "sst2/bert-base-cased input_ids vs BertTokenizerFast"
    total: int = 0
    count: int = 0
    examples: list[str] = field(default_factory=list)
    keep: int = 5

    def check(self, index: int, text, ours: Sequence, theirs: Sequence, refs: Refs | None = None, ids=False):
        """Count one comparison; record a diff if ``ours != theirs``."""
        self.total += 1
        ours, theirs = list(ours), list(theirs)
        if ours == theirs:
            return
        self.count += 1
        if len(self.examples) >= self.keep:
            return
        i = first_difference(ours, theirs)
        lo = max(0, i - 4)

        def window(seq):
            part = list(seq[lo : i + 6])
            if ids and refs is not None:
                part = [f"{t}({refs.tokens([t])[0]})" for t in part]
            return part

        inp = " ||| ".join(_clip(t) for t in text) if isinstance(text, tuple) else _clip(text)
        self.examples.append(
            f"  line {index}: {inp}\n"
            f"    lengths ours={len(ours)} ref={len(theirs)}; first difference at position {i}\n"
            f"    ours[{lo}:{i + 6}] = {window(ours)}\n"
            f"    ref [{lo}:{i + 6}] = {window(theirs)}"
        )

    def report(self) -> str:
        head = f"{self.what}: {self.count} of {self.total} differ"
        return "\n".join([head, *self.examples]) if self.count else head


def fail_if_any(mismatches: Sequence[Mismatches], extra: Sequence[str] = ()) -> None:
    """One failure naming every field that differed, with counts and first examples."""
    bad = [m.report() for m in mismatches if m.count]
    bad += list(extra)
    if bad:
        import pytest

        summary = "; ".join(m.report().splitlines()[0] for m in mismatches)
        pytest.fail("\n\n".join(bad) + "\n\nsummary: " + summary, pytrace=False)


# -- whole-corpus sweep ---------------------------------------------------------------------------------
def sweep(
    corpus: str, refs: Refs, texts: Sequence[str], pairs: Sequence[str] | None = None
) -> None:
    """Compare bertkit with both references on every line; fail once, with counts and diffs, at the end."""
    tag = f"{corpus}/{refs.name}"
    ids_fast = Mismatches(f"{tag} input_ids vs BertTokenizerFast")
    tt_fast = Mismatches(f"{tag} token_type_ids vs BertTokenizerFast")
    off_ids = Mismatches(f"{tag} input_ids (return_offsets=True) vs BertTokenizerFast")
    offsets = Mismatches(f"{tag} offsets vs BertTokenizerFast offset_mapping")
    ids_legacy = Mismatches(f"{tag} input_ids vs BertTokenizerLegacy (lines where the references agree)")
    tt_legacy = Mismatches(f"{tag} token_type_ids vs BertTokenizerLegacy (lines where the references agree)")
    disagreements = 0
    ours = refs.ours
    for start in range(0, len(texts), CHUNK):
        t = list(texts[start : start + CHUNK])
        p = list(pairs[start : start + CHUNK]) if pairs is not None else None
        fast = refs.fast_batch(t, p)
        legacy = refs.legacy_memo.encode_all(t, p)
        plain = ours.encode_batch(t, p)
        with_offsets = ours.encode_batch(t, p, return_offsets=True)
        for j, (enc, enc_off) in enumerate(zip(plain, with_offsets)):
            i = start + j
            text = (t[j], p[j]) if p is not None else t[j]
            f_ids, f_tt, f_off = fast["input_ids"][j], fast["token_type_ids"][j], fast["offset_mapping"][j]
            ids_fast.check(i, text, enc.input_ids, f_ids, refs, ids=True)
            tt_fast.check(i, text, enc.token_type_ids, f_tt)
            off_ids.check(i, text, enc_off.input_ids, f_ids, refs, ids=True)
            offsets.check(i, text, [tuple(o) for o in (enc_off.offsets or [])], [tuple(o) for o in f_off])
            l_ids, l_tt = legacy[j]
            if (list(l_ids), list(l_tt)) != (list(f_ids), list(f_tt)):
                disagreements += 1  # the fast comparison above already covers this line
                continue
            ids_legacy.check(i, text, enc.input_ids, l_ids, refs, ids=True)
            tt_legacy.check(i, text, enc.token_type_ids, l_tt)
    expected = EXPECTED_DISAGREEMENTS[corpus][refs.name]
    extra = []
    if disagreements != expected:
        extra.append(
            f"{tag}: the references disagree on {disagreements} lines, {expected} expected "
            "(transformers/tokenizers changed? re-measure EXPECTED_DISAGREEMENTS)"
        )
    fail_if_any([ids_fast, tt_fast, off_ids, offsets, ids_legacy, tt_legacy], extra)
