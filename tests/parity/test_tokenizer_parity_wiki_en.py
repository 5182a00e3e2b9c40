"""Tokenizer parity on the first 100,000 Wikipedia paragraphs, English vocabularies (uncased, cased).

Same checks as ``test_tokenizer_parity.py`` (ids and token types vs both references, offsets vs the fast
one); split from the multilingual/Chinese sweep so that pytest-xdist (``--dist loadfile``) runs them on
different workers.
"""

import pytest

from tokparity import sweep

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("vocab", ["bert-base-uncased", "bert-base-cased"])
def test_wiki(vocab, refs, wiki_paragraphs):
    sweep("wiki", refs(vocab), wiki_paragraphs)
