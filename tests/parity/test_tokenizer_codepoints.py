"""Every code point against BertTokenizerFast, so that an error in any character table of bertkit shows.

All of U+0000..U+10FFFF (surrogates excepted), 0x1000 code points per text, each alone between spaces and
inside a word (``ab{c}cd``); ids and offsets must equal the fast reference. On a mismatch the failing blocks
are re-run one code point at a time and the first 25 culprits are named (code point, name, category, both
outputs). Two vocabularies: bert-base-uncased (lower-casing and accent stripping) and
bert-base-multilingual-cased (no lower-casing; the largest vocabulary, so the fewest [UNK] to hide behind).
"""

from __future__ import annotations

import unicodedata

import pytest

pytestmark = pytest.mark.slow

BLOCK = 0x1000
BLOCKS = [b for b in range(0, 0x110000, BLOCK)]


def _chars(start: int) -> list[str]:
    return [chr(c) for c in range(start, start + BLOCK) if not 0xD800 <= c <= 0xDFFF]


def _describe(c: str) -> str:
    return f"U+{ord(c):04X} {unicodedata.name(c, '?')} ({unicodedata.category(c)})"


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-multilingual-cased"])
def test_every_code_point(vocab, refs):
    """Each code point alone between spaces, and inside a word ("ab{c}cd"), 0x1000 per text, vs the fast one."""
    r = refs(vocab)
    variants = {"spaced": lambda c: c, "in-word": lambda c: f"ab{c}cd"}
    bad_blocks: list[str] = []
    culprits: list[str] = []
    for start in BLOCKS:
        chars = _chars(start)
        if not chars:
            continue
        for name, make in variants.items():
            text = " ".join(make(c) for c in chars)
            fast = r.fast(text, add_special_tokens=True, return_offsets_mapping=True)
            enc = r.ours.encode(text, return_offsets=True)
            offsets = [tuple(o) for o in enc.offsets]
            if enc.input_ids == fast["input_ids"] and offsets == [tuple(o) for o in fast["offset_mapping"]]:
                continue
            bad_blocks.append(f"U+{start:04X}..U+{start + BLOCK - 1:04X} ({name})")
            if len(culprits) >= 25:
                continue
            # Pinpoint: one code point per text.
            for c in chars:
                t = make(c)
                f = r.fast(t, add_special_tokens=True, return_offsets_mapping=True)
                e = r.ours.encode(t, return_offsets=True)
                if e.input_ids != f["input_ids"] or [tuple(o) for o in e.offsets] != [
                    tuple(o) for o in f["offset_mapping"]
                ]:
                    culprits.append(
                        f"  {_describe(c)} {name} {t!r}: ours {r.tokens(e.input_ids)} {e.offsets} "
                        f"!= fast {r.tokens(f['input_ids'])} {f['offset_mapping']}"
                    )
                    if len(culprits) >= 25:
                        break
    assert not bad_blocks, (
        f"vocab={vocab}: {len(bad_blocks)} blocks differ from BertTokenizerFast: {', '.join(bad_blocks[:20])}\n"
        "first code points (ids or offsets differ):\n" + "\n".join(culprits)
    )
