"""``bertkit train-tokenizer`` end to end on a real slice of Wikipedia: the folder it writes loads in bertkit and
in transformers with identical ids, and every bad input gets one line on stderr and leaves no output behind.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from clirun import assert_one_line_error, bertkit
from test_cli import need

from bertkit.tokenizer import Tokenizer
from bertkit.utils.paths import shared_data_dir

SHARD = shared_data_dir() / "wikipedia_en" / "enwiki_part08.txt.gz"
SST2_DEV = shared_data_dir() / "glue_sst2" / "dev.tsv"


@pytest.fixture(scope="module")
def wiki_slice(tmp_path_factory) -> Path:
    """The first whole articles of one shard, about 2 MB, as a WikiExtractor .gz file."""
    lines, size = [], 0
    with gzip.open(need(SHARD), "rt", encoding="utf-8", newline="\n") as f:
        for line in f:
            lines.append(line)
            size += len(line)
            if size > 2_000_000 and line.startswith("</doc>"):
                break
    path = tmp_path_factory.mktemp("wiki") / "slice.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)
    return path


def leftovers(folder: Path) -> list[str]:
    """Temporary siblings a failed write would leave (atomic_dir names them .NAME.*.tmp/.old)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_trains_a_folder_that_both_tokenizers_load_alike(wiki_slice, tmp_path):
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "tok"
    proc = bertkit("train-tokenizer", wiki_slice, "--vocab-size", "4000", "--output", out)
    assert proc.stderr.startswith(f"wrote {out}: vocab.txt (4,000 tokens: 5 reserved"), proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["tokenizer_config.json", "vocab.txt"]
    assert json.loads((out / "tokenizer_config.json").read_text())["do_lower_case"] is True
    ours = Tokenizer.from_pretrained(out)
    fast = transformers.BertTokenizerFast.from_pretrained(str(out))
    assert len(ours) == len(fast) == 4000 and fast.unk_token_id == ours.unk_token_id == 1
    rows = need(SST2_DEV).read_text(encoding="utf-8").splitlines()[1:]
    texts = [r.split("\t")[0] for r in rows] + ["Héllo, WORLD! naïve café 東京 😀"]
    assert [e.input_ids for e in ours.encode_batch(texts)] == fast(texts)["input_ids"]
    # a second run replaces the tokenizer folder as a whole
    bertkit("train-tokenizer", wiki_slice, "--vocab-size", "3000", "--output", out, "--cased")
    assert len(Tokenizer.from_pretrained(out)) == 3000 and leftovers(tmp_path) == []
    assert json.loads((out / "tokenizer_config.json").read_text())["do_lower_case"] is False


def test_missing_input(tmp_path):
    proc = bertkit("train-tokenizer", tmp_path / "nope.txt", "--vocab-size", "100", "--output", tmp_path / "o",
                   check=False)
    assert_one_line_error(proc, "nope.txt", "no such file")
    assert not (tmp_path / "o").exists()


def test_empty_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n", encoding="utf-8")
    proc = bertkit("train-tokenizer", empty, "--vocab-size", "100", "--output", tmp_path / "o", check=False)
    assert_one_line_error(proc, "empty.txt", "no text to learn from")
    assert not (tmp_path / "o").exists() and leftovers(tmp_path) == []


def test_vocab_size_too_small(wiki_slice, tmp_path):
    proc = bertkit("train-tokenizer", wiki_slice, "--vocab-size", "5", "--output", tmp_path / "o", check=False)
    assert_one_line_error(proc, "vocab size 5 is too small", "5 reserved")
    # found out only after counting: the alphabet alone does not fit
    proc = bertkit("train-tokenizer", wiki_slice, "--vocab-size", "60", "--output", tmp_path / "o", check=False)
    assert_one_line_error(proc, "vocab size 60 is too small", "alphabet")
    assert not (tmp_path / "o").exists() and leftovers(tmp_path) == []


def test_output_that_is_not_a_tokenizer_folder(wiki_slice, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    (model / "vocab.txt").write_text("[PAD]\n", encoding="utf-8")
    proc = bertkit("train-tokenizer", wiki_slice, "--vocab-size", "500", "--output", model, check=False)
    assert_one_line_error(proc, str(model), "not a tokenizer folder", "model.safetensors")
    assert sorted(p.name for p in model.iterdir()) == ["model.safetensors", "vocab.txt"]
    file = tmp_path / "file"
    file.write_text("x", encoding="utf-8")
    proc = bertkit("train-tokenizer", wiki_slice, "--vocab-size", "500", "--output", file, check=False)
    assert_one_line_error(proc, "not a folder")
    assert file.read_text() == "x"
