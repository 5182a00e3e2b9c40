"""``bertkit export --onnx DIR OUT.onnx``: a checkpoint as an ONNX file for ONNX Runtime, checked before it is
kept (bertkit.convert.onnx)."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
import warnings
from pathlib import Path

from bertkit.cli.options import existing_dir
from bertkit.utils.errors import BertkitError


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint to ONNX",
                       description="Write a checkpoint folder (any bertkit / Hugging Face BERT model) as one ONNX "
                       "file with dynamic batch and sequence axes, for ONNX Runtime. Its outputs are checked "
                       "against bertkit's on a padded batch before the file is kept. Needs the onnx extra: "
                       "pip install 'bertkit[onnx]'.")
    p.add_argument("--onnx", action="store_true", required=True, help="the format (ONNX, the only one for now)")
    p.add_argument("model", metavar="DIR", type=existing_dir, help="checkpoint folder")
    p.add_argument("output", metavar="OUT.onnx", type=Path)
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18)")
    p.set_defaults(run=run)


def run(args) -> int:
    from bertkit.convert import load_pretrained
    from bertkit.convert.onnx import export_onnx

    if args.output.suffix != ".onnx":
        raise BertkitError(f"{args.output}: expected a .onnx file name")
    model, _ = load_pretrained(args.model)
    t0 = time.perf_counter()
    chatter = io.StringIO()  # torch.onnx prints its steps and warns about axis names; keep them for errors
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" and the like
    try:
        with contextlib.redirect_stdout(chatter), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = export_onnx(model, args.output, opset=args.opset)
    except BertkitError:
        raise
    except Exception as e:  # the exporter's own failures: one line, its log on stderr for a bug report
        sys.stderr.write(chatter.getvalue())
        raise BertkitError(f"{args.model}: ONNX export failed: {type(e).__name__}: {str(e).splitlines()[0]}")
    print(f"wrote {args.output}: {type(model).__name__}, outputs {', '.join(report['outputs'])}, "
          f"{report['bytes'] / 1e6:.1f} MB, opset {report['opset']}; checked: max |diff| "
          f"{report['max_abs_diff']:.1g} to bertkit ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0
