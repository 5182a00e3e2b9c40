"""Task readers and features on real files: columns found by common names in every shared format, CoLA's
header-less layout, NER labels on first sub-tokens only, QA windows whose label tokens spell the answer,
multiple-choice candidates, and batch orders that cover every example once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bertkit.data import finetune as ft
from bertkit.data.examples import read_choice_examples, read_text_examples, read_words_examples
from bertkit.data.tasks.squad import read_squad
from bertkit.data.tasks.table import read_records
from bertkit.tokenizer import Tokenizer
from bertkit.utils.errors import BertkitError


@pytest.fixture(scope="module")
def tok(vocab_dir):
    return Tokenizer.from_pretrained(vocab_dir("bert-base-uncased"))


def _need(data_dir, rel):
    p = data_dir / rel
    if not p.is_file():
        pytest.skip(f"data missing: {p}")
    return p


@pytest.mark.parametrize("rel,scores,text,pair,label,first", [
    ("glue_sst2/dev.tsv", False, "it 's a charming and often affecting journey . ", None, "1", 2),
    ("glue_mrpc/dev.tsv", False, "He said the foodservice pie business doesn 't fit the company 's long-term "
                                 "growth strategy .", "\" The foodservice pie business does not fit our long-term "
                                 "growth strategy .", "1", 2),
    ("glue_rte/dev.tsv", False, None, None, "not_entailment", 2),
    ("glue_stsb/dev.tsv", True, "A man with a hard hat is dancing.", "A man wearing a hard hat is dancing.", 5.0, 2),
    ("sick/trial.tsv", False, None, None, "CONTRADICTION", 2),
    ("sick/trial.tsv", True, None, None, 3.6, 2),  # scores are read as floats
    ("glue_cola/dev.tsv", False, "The sailors rode the breeze clear of the rocks.", None, "1", 1),
    ("imdb/test.csv.gz", False, None, None, "0", 2),
])
def test_text_examples_of_every_shared_format(data_dir, rel, scores, text, pair, label, first):
    examples = read_text_examples(_need(data_dir, rel), scores=scores)
    ex = examples[0]
    assert ex.where == f"{data_dir / rel}: line {first}"
    if text is not None:
        assert ex.text == text
    assert ex.pair == pair if text is not None else (ex.pair is None) == (rel.startswith(("imdb", "glue_cola")))
    assert ex.label == label
    counts = {"glue_sst2/dev.tsv": 872, "glue_mrpc/dev.tsv": 408, "glue_rte/dev.tsv": 277, "glue_stsb/dev.tsv": 1500,
              "sick/trial.tsv": 495, "glue_cola/dev.tsv": 1043, "imdb/test.csv.gz": 2500}
    assert len(examples) == counts[rel]


def test_cola_layout_is_recognised_and_user_columns_work(tmp_path, data_dir):
    records = read_records(_need(data_dir, "glue_cola/train.tsv"))
    assert records.columns == ["source", "label", "author_mark", "sentence"] and len(records.rows) == 8551
    own = tmp_path / "own.jsonl"
    own.write_text('{"body": "great", "stars": "5"}\n{"body": "awful", "stars": "1"}\n', encoding="utf-8")
    with pytest.raises(BertkitError, match="no text column found"):
        read_text_examples(own)
    got = read_text_examples(own, columns=["body"], label="stars")
    assert [(e.text, e.label) for e in got] == [("great", "5"), ("awful", "1")]
    csv = tmp_path / "q.csv"
    csv.write_text('text,label\n"a, quoted ""field""",pos\n', encoding="utf-8")
    assert read_text_examples(csv)[0].text == 'a, quoted "field"'


def test_label_set_is_sorted_and_unseen_labels_name_the_line(tmp_path):
    assert ft.label_set(["10", "2", "1"]) == ["1", "2", "10"]
    assert ft.label_set(["pos", "neg"]) == ["neg", "pos"]
    ex = [ft.TextExample("a", label="x", where="f.tsv: line 7")]
    with pytest.raises(BertkitError, match="f.tsv: line 7: label 'x' was never seen"):
        ft.label_ids(ex, ["a", "b"])


def test_ner_labels_on_first_subtokens_only(tok, data_dir):
    examples = read_words_examples(_need(data_dir, "conll2003/valid.txt"))[:200]
    labels = ft.label_set([t for ex in examples for t in ex.tags])
    feats = ft.encode_words(tok, examples, 128, labels)
    for ex, f in zip(examples, feats):
        assert len(f.word_starts) == len(ex.words)  # no sentence of these is cut at 128
        labelled = [i for i, y in enumerate(f.label) if y != ft.IGNORE]
        assert labelled == [s for s in f.word_starts if s >= 0]
        assert [labels[f.label[s]] for s in f.word_starts if s >= 0] == [t for t, s in zip(ex.tags, f.word_starts)
                                                                        if s >= 0]
        for w, s in enumerate(f.word_starts):  # the first piece of each word is the word's own first piece
            if s >= 0:
                assert f.input_ids[s] == tok.encode_ids(ex.words[w], add_special_tokens=False)[0]
    short = ft.encode_words(tok, examples[:50], 8, labels)
    assert all(len(f.input_ids) <= 8 for f in short)


def test_qa_window_labels_spell_the_answer(tok, data_dir):
    examples = read_squad(_need(data_dir, "squadshifts_new_wiki/new_wiki_v1.0.json.gz"))[:300]
    feats = ft.encode_squad(tok, examples, 128, 32, 64)
    assert len(feats) > len(examples)  # long contexts give several windows
    found = set()
    for f in feats:
        ex = examples[f.example]
        assert len(f.input_ids) <= 128 and len(f.offsets) == len(f.input_ids)
        s, e = f.label
        if (s, e) == (0, 0):
            continue
        found.add(f.example)
        a = ex.answers[0]
        a_start, a_end = a.answer_start, a.answer_start + len(a.text)
        # the label tokens are the smallest token span covering the answer's characters
        assert f.offsets[s][0] <= a_start < f.offsets[s][1] and f.offsets[e][0] < a_end <= f.offsets[e][1]
        span = ex.context[f.offsets[s][0]:f.offsets[e][1]]
        if span != a.text:  # only when the answer starts or ends inside a word, as "(mode" for "(modern"
            assert a.text in span and tok.tokenize(span) != tok.tokenize(a.text)
    assert len(found) >= 0.95 * len(examples)  # each answer lies wholly in at least one window
    # consecutive windows of one context share doc_stride tokens
    ex0 = [f for f in feats if f.example == max(found, key=lambda n: sum(g.example == n for g in feats))]
    offs = [[o for o in f.offsets if o is not None] for f in ex0]
    if len(offs) > 1:
        assert offs[0][-32:] == offs[1][:32]


def test_choice_examples_from_jsonl_and_swag_csv(tok, data_dir, tmp_path):
    examples = read_choice_examples(_need(data_dir, "hellaswag/dev.jsonl.gz"))
    assert len(examples) == 1004 and all(len(e.endings) == 4 and 0 <= e.label < 4 for e in examples)
    swag = tmp_path / "swag.csv"
    swag.write_text("sent1,sent2,ending0,ending1,ending2,label\nShe opens the box.,She,smiles.,eats it.,flies.,0\n",
                    encoding="utf-8")
    (ex,) = read_choice_examples(swag)
    assert ex.context == "She opens the box." and ex.endings == ["She smiles.", "She eats it.", "She flies."]
    feats = ft.encode_choices(tok, examples[:8], 64)
    batch = ft.collate(feats, tok.pad_token_id, "class")
    assert batch.input_ids.shape[:2] == (8, 4) and batch.labels.tolist() == [e.label for e in examples[:8]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"context": "x", "endings": ["a", "b"], "label": 2}) + "\n", encoding="utf-8")
    with pytest.raises(BertkitError, match="bad.jsonl: line 1: label=2 but there are 2 candidates"):
        read_choice_examples(bad)


def test_batch_orders_cover_every_example_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 128, size=1001).tolist()
    batches = ft.length_grouped_batches(lengths, 32, np.random.default_rng(1))
    assert sorted(i for b in batches for i in b) == list(range(1001))
    assert all(len(b) <= 32 for b in batches)

    def spread(bs):
        return np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in bs])

    assert spread(batches) < 25  # similar lengths in a batch (mega-batches of 7 batches here): little padding
    plain = ft.random_batches(1001, 32, np.random.default_rng(1))
    assert sorted(i for b in plain for i in b) == list(range(1001)) and spread(plain) > 90
    # a small set (1,500 features, 47 batches: one mega-batch if it held 50) still gets new batches each epoch;
    # distinct lengths, so that random ties cannot hide a fixed sort order
    small = (rng.permutation(1500) + 3).tolist()
    a, b = (ft.length_grouped_batches(small, 32, np.random.default_rng(e)) for e in (1, 2))
    shared = {frozenset(x) for x in a} & {frozenset(x) for x in b}
    assert len(shared) <= 2, f"{len(shared)} of {len(a)} batches repeat between epochs"
    costs = [n * 4 if i % 2 else n for i, n in enumerate(lengths)]
    budget = ft.budget_batches(costs, lengths, 2048)
    assert sorted(i for b in budget for i in b) == list(range(1001))
    for b in budget:
        widest = max(lengths[i] for i in b)
        assert len(b) == 1 or len(b) * widest * max(costs[i] // lengths[i] for i in b) <= 2048 * 4


def test_choice_examples_with_different_numbers_of_candidates(tok):
    from bertkit.config import BertConfig
    from bertkit.model import BertForMultipleChoice
    from bertkit.tasks.inference import run_features

    examples = [ft.ChoiceExample(f"context {i}", [f"ending {j}" for j in range(3 + i % 2)], 0) for i in range(40)]
    feats = ft.encode_choices(tok, examples, 32)
    data = ft.FinetuneData(feats, batch_size=8, grad_accum=1, seed=0, pad_id=0, label_kind="class", epochs=1)
    seen = []
    for micro, _ in data.batches(None):
        (batch,) = micro
        assert batch.input_ids.shape[1] in (3, 4)  # one candidate count per batch
        seen.append(batch.size)
    assert sum(seen) == 40
    model = BertForMultipleChoice(BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1,
                                             num_attention_heads=2, intermediate_size=37))
    outs = run_features(model, feats, tok.pad_token_id, max_tokens=200)
    assert [o.shape for o in outs] == [(3 + i % 2,) for i in range(40)]


def test_the_commands_list_every_task_family():
    from bertkit.cli.finetune import TASKS
    from bertkit.cli.task_families import FAMILIES

    assert TASKS == tuple(FAMILIES)


# ---- a user's own files: formats, names and values the shared data sets do not show ------------------------------


def test_labels_are_normalised_and_header_names_stripped(tmp_path):
    jsonl = tmp_path / "mixed.JSONL"  # the suffix in any case
    jsonl.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 1.0}\n{"text": "c", "label": 0}\n'
                     '{"text": "d", "label": " 0 "}\n{"text": "e", "label": true}\n', encoding="utf-8")
    assert [ex.label for ex in read_text_examples(jsonl)] == ["1", "1", "0", "0", "True"]
    tsv = tmp_path / "spaces.tsv"
    tsv.write_text("sentence \t label\na fine film\t1 \na dull one\t0\n", encoding="utf-8")
    examples = read_text_examples(tsv)
    assert [ex.label for ex in examples] == ["1", "0"] and ft.label_set([ex.label for ex in examples]) == ["0", "1"]
    csv_file = tmp_path / "upper.CSV"
    csv_file.write_text('text, label\n"quoted, with a comma",1\n', encoding="utf-8")
    assert [(ex.text, ex.label) for ex in read_text_examples(csv_file)] == [("quoted, with a comma", "1")]
    assert ft.label_set(["01", "1", "2"]) == ["01", "1", "2"]  # ties under int() in a fixed order


def test_regression_labels_must_be_finite_numbers(tmp_path):
    for bad, line in (("nan", 3), ("inf", 3), ("n/a", 3)):
        f = tmp_path / f"{bad.replace('/', '')}.tsv"
        f.write_text(f"sentence1\tsentence2\tscore\na\tb\t4.5\nc\td\t{bad}\n", encoding="utf-8")
        with pytest.raises(BertkitError, match=rf"{f}: line {line}: score='{bad}' is not a (finite )?number"):
            read_text_examples(f, scores=True)
    ok = tmp_path / "ok.tsv"
    ok.write_text("sentence1\tsentence2\tscore\na\tb\t 4.5\n", encoding="utf-8")
    assert read_text_examples(ok, scores=True)[0].label == 4.5


def test_prediction_input_needs_no_labels_and_plain_text_keeps_every_line(tmp_path):
    tsv = tmp_path / "unlabelled.tsv"
    tsv.write_text("Review Text\nfine\nbad\n", encoding="utf-8")
    got = read_text_examples(tsv, columns=["Review Text"], label="Sentiment", need_labels=False)
    assert [(ex.text, ex.label) for ex in got] == [("fine", None), ("bad", None)]
    with pytest.raises(BertkitError, match="no column 'Sentiment'"):
        read_text_examples(tsv, columns=["Review Text"], label="Sentiment")
    txt = tmp_path / "lines.txt"
    txt.write_text("first\n\n  \nlast\n", encoding="utf-8")  # a model trained on named columns reads it too
    got = read_text_examples(txt, columns=["Review Text"], need_labels=False)
    assert [ex.text for ex in got] == ["first", "", "  ", "last"]


def test_csv_fields_longer_than_128_kib(tmp_path):
    review = "word " * 40_000  # 200 KB, one field
    f = tmp_path / "long.csv"
    f.write_text(f'text,label\n"{review}",1\nshort,0\n', encoding="utf-8")
    assert [len(ex.text) for ex in read_text_examples(f)] == [len(review), 5]


def test_ner_files_are_told_apart_by_content_and_io_tags_read(tmp_path):
    from bertkit.tasks.metrics import entity_spans

    io = tmp_path / "io_tags"  # no suffix: CoNLL columns with bare (IO) tags
    io.write_text("Angela PER\nMerkel PER\nvisited O\nParis LOC\n. O\n\nHello O\n", encoding="utf-8")
    sents = read_words_examples(io)
    assert sents[0].tags == ["I-PER", "I-PER", "O", "I-LOC", "O"] and sents[1].words == ["Hello"]
    assert entity_spans(sents[0].tags) == [("PER", 0, 2), ("LOC", 3, 4)]
    tsv = tmp_path / "tagged.tsv"  # CoNLL columns in a .tsv, IOB2 kept as it is
    tsv.write_text("EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\n", encoding="utf-8")
    assert read_words_examples(tsv)[0].tags == ["B-ORG", "O", "B-MISC"]
    plain = tmp_path / "news"  # no suffix: plain text, one sentence a line, blank lines kept
    plain.write_text("Angela Merkel met Emmanuel Macron in Paris .\r\n\r\nShares of Apple rose .\r\n",
                     encoding="utf-8")
    sents = read_words_examples(plain)
    assert [s.words for s in sents] == [["Angela", "Merkel", "met", "Emmanuel", "Macron", "in", "Paris", "."], [],
                                        ["Shares", "of", "Apple", "rose", "."]]
    assert all(s.tags is None for s in sents)
    words = tmp_path / "to_tag"  # CoNLL's word column alone (text to tag): sentences, not one word a record
    words.write_text("Angela\nMerkel\nvisited\nParis\n\nHello\n.\n", encoding="utf-8")
    sents = read_words_examples(words)
    assert [s.words for s in sents] == [["Angela", "Merkel", "visited", "Paris"], ["Hello", "."]]
    assert all(s.tags is None for s in sents) and sents[0].text == "Angela Merkel visited Paris"
    listing = tmp_path / "names"  # one word a line and no runs: plain text, a record per line
    listing.write_text("Angela\n\nParis\nBerlin\n", encoding="utf-8")
    assert [s.words for s in read_words_examples(listing)] == [["Angela"], [], ["Paris"], ["Berlin"]]


def test_squad_without_answers_and_with_repeated_ids(tmp_path):
    from bertkit.cli.task_families import FAMILIES

    ctx = "Ann wrote the book in Paris."
    data = {"data": [{"title": "t", "paragraphs": [{"context": ctx, "qas": [
        {"id": "q", "question": "Who wrote it?", "answers": [{"text": "Ann", "answer_start": 0}]},
        {"id": "q", "question": "Where?", "answers": [{"text": "Paris", "answer_start": 22}]},
        {"id": "r", "question": "What?"}]}]}]}
    f = tmp_path / "dup.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    examples = read_squad(f)
    assert [len(ex.answers) for ex in examples] == [1, 1, 0]
    preds = [{"answer": "Ann"}, {"answer": "Ann"}, {"answer": "x"}]
    # scored question by question (ids repeat): 1 of the 2 answered questions is right
    assert FAMILIES["qa"].score(preds, examples, None)["exact_match"] == 0.5


def test_entity_dense_io_files_bilou_and_ner_tables(tmp_path):
    from bertkit.data.examples import iob_tag
    from bertkit.tasks.metrics import entity_spans

    genes = tmp_path / "genes.iobdata"  # more entity tokens than O, bare tags, a suffix nobody knows
    genes.write_text("BRCA1 GENE\np53 GENE\nbinds O\nMDM2 GENE\n\nKRAS GENE\nmutates O\n", encoding="utf-8")
    assert [s.tags for s in read_words_examples(genes)] == [["I-GENE", "I-GENE", "O", "I-GENE"], ["I-GENE", "O"]]
    bilou = tmp_path / "bilou.txt"
    bilou.write_text("New B-LOC\nYork L-LOC\nand O\nParis U-LOC\nParis U-LOC\n", encoding="utf-8")
    tags = read_words_examples(bilou)[0].tags
    assert tags == ["B-LOC", "E-LOC", "O", "S-LOC", "S-LOC"]
    assert entity_spans(tags) == [("LOC", 0, 2), ("LOC", 3, 4), ("LOC", 4, 5)]
    assert [iob_tag(t) for t in ("O", "PER", "B-PER", "U-PER", "B_PER")] == ["O", "I-PER", "B-PER", "S-PER", "B_PER"]
    table = tmp_path / "sentences.tsv"
    table.write_text("id\tReview Text\n1\tAngela Merkel spoke .\n", encoding="utf-8")
    assert read_words_examples(table, columns=["Review Text"])[0].words == ["Angela", "Merkel", "spoke", "."]


def test_a_model_saved_with_other_label_spellings_still_scores(tmp_path):
    from bertkit.cli.task_families import FAMILIES
    from bertkit.data.examples import TextExample

    examples = [TextExample("a", label="1"), TextExample("b", label="0"), TextExample("c", label="True")]
    preds = [{"label": "1.0"}, {"label": "1.0"}, {"label": "True"}]
    scores = FAMILIES["classify"].score(preds, examples, ["0.0", "1.0", "True"])  # as an older reader saved them
    assert scores["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(BertkitError, match="label\\(s\\) '7' not among"):
        FAMILIES["classify"].score(preds[:1], [TextExample("a", label="7", where="f: line 2")], ["0.0", "1.0"])
