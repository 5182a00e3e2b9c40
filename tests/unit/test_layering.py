"""The import layering of STYLE.md §2, checked by walking every import in src/bertkit.

Each layer may import only from layers above it (smaller number); siblings on one level never import each
other. Imports inside functions count too. ``transformers``/``tokenizers``/``sentence_transformers`` are
never imported by the library, ``utils`` uses only the standard library and numpy, and the tokenizer never
touches torch.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "bertkit"

LAYER = {
    "utils": 1,
    "config": 2,
    "tokenizer": 2,
    "model": 3,
    "data": 3,
    "convert": 4,
    "tasks": 5,
    "train": 5,
    "cli": 6,
}
ORACLES = {"transformers", "tokenizers", "sentence_transformers", "huggingface_hub"}
STDLIB = set(sys.stdlib_module_names)


def _part(module_file: Path) -> str:
    rel = module_file.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in a file, relative imports resolved."""
    text = path.read_text(encoding="utf-8") if text is None else text
    tree = ast.parse(text, filename=str(path))
    pkg = ["bertkit", *path.relative_to(SRC).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_every_part_has_a_layer():
    parts = {_part(p) for p in _modules()}
    assert parts <= set(LAYER), f"parts without a layer in STYLE.md §2: {sorted(parts - set(LAYER))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path):
    me = _part(path)
    bad = []
    for line, name in _imports(path):
        top = name.split(".")[0]
        where = f"{path.relative_to(SRC)}:{line} imports {name}"
        if top == "bertkit":
            parts = name.split(".")
            if len(parts) == 1:
                bad.append(f"{where} (import the submodule, not the lazy top-level package)")
                continue
            other = parts[1]
            if other == me:
                continue
            if other not in LAYER:
                bad.append(f"{where} (unknown part {other!r})")
            elif LAYER[other] >= LAYER[me]:
                bad.append(f"{where} (layer {LAYER[me]} {me} -> layer {LAYER[other]} {other})")
        elif top in ORACLES:
            bad.append(f"{where} (reference libraries are for tests and benchmarks only)")
        elif me == "utils" and top not in STDLIB and top != "numpy":
            bad.append(f"{where} (utils is stdlib and numpy only)")
        elif me == "tokenizer" and top not in STDLIB:
            bad.append(f"{where} (the tokenizer is pure Python)")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_violation():
    """The walker resolves relative and in-function imports (so the test above can fail)."""
    probe = SRC / "tokenizer" / "probe.py"
    text = "def f():\n    from ..model import bert\n    import torch\n"
    assert [n for _, n in _imports(probe, text)] == ["bertkit.model", "torch"]


def test_tokenizer_runs_without_torch():
    """``bertkit.Tokenizer`` (through the lazy top-level package) must not load torch at run time either."""
    import subprocess

    code = (
        "import sys, bertkit; tok = bertkit.Tokenizer; "
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_usage_errors_answer_without_torch():
    """Building the CLI's parser and rejecting bad arguments must not load torch (2 s here): argparse runs each
    option's ``type`` on its string default too, so a converter that imports torch would make every usage error
    slow."""
    import subprocess

    code = (
        "import sys\n"
        "from bertkit.cli.main import build_parser\n"
        "for argv in (['embed', '--bogus'], ['embed', '--model', '.', 'x', '-o', 'y.npy', '--dtype', 'fp8'],"
        " ['finetune', '--bogus'], ['pretrain', '--bogus'], ['evaluate', '--bogus'], ['bench', '--bogus']):\n"
        "    try:\n"
        "        build_parser().parse_args(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 2, (argv, e.code)\n"
        "    else:\n"
        "        raise AssertionError(argv)\n"
        "assert 'torch' not in sys.modules, argv\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_public_api_is_importable_from_the_top():
    import bertkit

    for name in ("BertConfig", "BertModel", "BertForPreTraining", "Tokenizer", "load_pretrained", "save_pretrained"):
        assert getattr(bertkit, name).__name__ == name
    assert set(bertkit.__all__) >= {"BertConfig", "Tokenizer", "load_pretrained"}
