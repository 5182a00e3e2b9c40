"""Readers for task files, one module per file format: GLUE-style TSV (:mod:`.tsv`), CoNLL-2003 columns
(:mod:`.conll`), SQuAD v1.1 JSON (:mod:`.squad`). Each reads a user's own file of that format, streams it
through :func:`bertkit.utils.io.read_lines` (``.gz`` works, bad UTF-8 names the line) and reports a
malformed file as one BertkitError naming the file and line.
"""
