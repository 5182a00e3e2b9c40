"""Sentence splitting (bertkit.data.sentences): real Wikipedia paragraphs, hand-made hard cases, and the
no-text-lost property on arbitrary strings."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bertkit.data.sentences import sentence_spans, split_sentences

# Real paragraphs from wikipedia_en (enwiki_part03/05), split as a reader would.
WIKI = [
    (
        "Edward Bellamy was born in Chicopee, Massachusetts. His father was Rufus King Bellamy (1816–1886), a "
        "Baptist minister and a descendant of Joseph Bellamy.",
        ["Edward Bellamy was born in Chicopee, Massachusetts.",
         "His father was Rufus King Bellamy (1816–1886), a Baptist minister and a descendant of Joseph Bellamy."],
    ),
    (
        "The United States commissioned its first torpedo boat destroyer, USS \"Bainbridge\", Destroyer No. 1, in "
        "1902 and by 1906 there were 16 destroyers in service with the US Navy.",
        None,  # one sentence: "No. 1" is not a boundary
    ),
    (
        "It was also an influence on J. R. R. Tolkien, who read it a few years later. The novel was reprinted.",
        ["It was also an influence on J. R. R. Tolkien, who read it a few years later.", "The novel was reprinted."],
    ),
    (
        "The Bronze Age began around 2000 BC, and the Iron Age around 700 BC. Scotland's recorded history "
        "begins with the arrival of the Roman Empire in the 1st century.",
        ["The Bronze Age began around 2000 BC, and the Iron Age around 700 BC.",
         "Scotland's recorded history begins with the arrival of the Roman Empire in the 1st century."],
    ),
    (
        "Reich (not to be confused with former U.S. Secretary of Labor Robert Reich) was a friend of Dr. John "
        "Minthorn, pastor of St. Peterskirche, who set an adaptation of Psalm 65 (c. 1525).",
        None,
    ),
    (
        "Their study was interrupted by the First World War. Following the end of the First World War, the "
        "school reopened.",
        ["Their study was interrupted by the First World War.",
         "Following the end of the First World War, the school reopened."],
    ),
]

HARD = [
    ("Mr. Smith met Mrs. Jones at 3.5 p.m. on Jan. 5. They talked.",
     ["Mr. Smith met Mrs. Jones at 3.5 p.m. on Jan. 5.", "They talked."]),
    ("He said \"Stop.\" Then he left.", ["He said \"Stop.\"", "Then he left."]),
    ("It rose (see Fig. 3.) A second rise followed!", ["It rose (see Fig. 3.)", "A second rise followed!"]),
    ("Really?! \"Yes,\" she said. 'Fine.' (Nothing more.) 42 was the answer.",
     ["Really?!", "\"Yes,\" she said.", "'Fine.'", "(Nothing more.)", "42 was the answer."]),
    ("Wait... What? Now… Later.", ["Wait... What?", "Now… Later."]),
    ("Fruit, e.g. Apples, i.e. Red ones, vs. Pears, et al. Done.", ["Fruit, e.g. Apples, i.e. Red ones, vs. Pears, et al. Done."]),
    ("He served in World War I. The war ended. Elizabeth I. She ruled.",
     ["He served in World War I.", "The war ended.", "Elizabeth I.", "She ruled."]),
    ("He moved to the U.S. In 1990 he returned to the U.S. Army.",
     ["He moved to the U.S.", "In 1990 he returned to the U.S. Army."]),
    ("The answer was no. Then see No. 5 and p. 12, c. 1900.", ["The answer was no.", "Then see No. 5 and p. 12, c. 1900."]),
    ("Visit example.com. or v1.2.3 now. it continues in lower case.", ["Visit example.com. or v1.2.3 now. it continues in lower case."]),
    ("Ends here.   Ελληνικά. Деление. 中文句子。 Next.", ["Ends here.", "Ελληνικά.", "Деление.", "中文句子。 Next."]),
    ("  \n padded.\tNext\u00a0one.  ", ["padded.", "Next\u00a0one."]),
    ("", []),
    ("   ", []),
    ("No punctuation at all", ["No punctuation at all"]),
    ("Trailing dot.", ["Trailing dot."]),
]


@pytest.mark.parametrize("text, expected", WIKI + HARD, ids=lambda v: v[:30] if isinstance(v, str) else None)
def test_split(text, expected):
    assert split_sentences(text) == (expected if expected is not None else [text])


def _check_lossless(text: str) -> None:
    spans = sentence_spans(text)
    pos = 0
    for a, b in spans:
        assert pos <= a < b <= len(text)
        assert text[pos:a].strip() == ""  # only whitespace between sentences
        assert not text[a].isspace() and not text[b - 1].isspace()
        pos = b
    assert text[pos:].strip() == ""
    assert " ".join(text[a:b] for a, b in spans).split() == text.split()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ. !?\"')(…\n\t\u00a0\u20281.eMrJUSé")), max_size=60))
def test_no_text_lost(text):
    _check_lossless(text)


def test_real_wikipedia_lossless(data_dir):
    from bertkit.data.corpus import read_documents

    shard = data_dir / "wikipedia_en" / "enwiki_part00.txt.gz"
    if not shard.is_file():
        pytest.skip(f"data missing: {shard}")
    paragraphs = [p for doc in itertools.islice(read_documents(shard), 100) for p in doc]
    n = 0
    for p in paragraphs:
        _check_lossless(p)
        n += len(sentence_spans(p))
    assert n > 2 * len(paragraphs)  # Wikipedia paragraphs hold several sentences on average
