"""SQuAD v1.1 JSON (Rajpurkar et al., 2016): ``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
"question", "answers": [{"text", "answer_start"}]}]}]}]}``, flattened to one record per question.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines


@dataclass(frozen=True)
class Answer:
    text: str
    answer_start: int  # character offset into the context


@dataclass(frozen=True)
class SquadExample:
    id: str
    question: str
    context: str
    answers: list[Answer]
    title: str = ""


def read_squad(path: str | os.PathLike) -> list[SquadExample]:
    """Every question of a SQuAD v1.1 file, in file order, with its paragraph's context and its answers.

    A question without ``answers`` has none (a file to predict on); a file that is not JSON, or lacks another
    field, raises BertkitError naming the file and where.
    """
    p = Path(path)
    text = "".join(read_lines(p, keep_ends=True))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BertkitError(f"{p}: line {e.lineno}: not valid JSON ({e.msg})") from None
    out: list[SquadExample] = []
    for a, article in enumerate(_get(data, "data", p, "top level", list)):
        title = article.get("title", "") if isinstance(article, dict) else ""
        for i, para in enumerate(_get(article, "paragraphs", p, f"data[{a}]", list)):
            where = f"data[{a}].paragraphs[{i}]"
            context = _get(para, "context", p, where, str)
            for j, qa in enumerate(_get(para, "qas", p, where, list)):
                w = f"{where}.qas[{j}]"
                answers = [
                    Answer(_get(ans, "text", p, f"{w}.answers[{k}]", str),
                           _get(ans, "answer_start", p, f"{w}.answers[{k}]", int))
                    for k, ans in enumerate(_get(qa, "answers", p, w, list) if _has(qa, "answers") else [])
                ]
                out.append(SquadExample(str(_get(qa, "id", p, w, (str, int))), _get(qa, "question", p, w, str),
                                        context, answers, title))
    return out


def _has(obj, key: str) -> bool:
    return isinstance(obj, dict) and key in obj


def _get(obj, key: str, path: Path, where: str, kind):
    """``obj[key]`` checked to be of ``kind``; else one BertkitError naming the file, place and key."""
    if not isinstance(obj, dict) or key not in obj:
        raise BertkitError(f"{path}: {where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BertkitError(f"{path}: {where}.{key}: expected {getattr(kind, '__name__', kind)}, "
                           f"got {type(value).__name__}")
    return value


def answer_mismatches(examples: list[SquadExample]) -> list[int]:
    """Indices of examples whose first answer's text is not ``context[answer_start:][:len(text)]`` (Google's
    run_squad.py warns "Could not find answer" and skips such examples in training)."""
    bad = []
    for i, ex in enumerate(examples):
        if ex.answers:
            a = ex.answers[0]
            if ex.context[a.answer_start:a.answer_start + len(a.text)] != a.text:
                bad.append(i)
    return bad
