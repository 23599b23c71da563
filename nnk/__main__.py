"""``python -m nnk info``: what nnk sees of this machine."""
import argparse
import os
import sys

from . import __version__, cpu_info
from ._dispatch import ISA_NAMES


def _info(args):
    info = cpu_info()
    print(f"nnk {__version__} on {info['arch']}: {info['cpu']}")
    print(f"  features:  {' '.join(info['features']) or '(none detected)'}")
    print(f"  ISA:       {info['isa']} (best: {info['best']}; available: "
          f"{', '.join(info['available'])})")
    print(f"  SLEEF:     {info['sleef']}")
    print(f"  threads:   {info['threads']} (from {info['threads_from']})")
    caches = ", ".join(f"{name} {size // 1024} KiB {ways}-way ({source})"
                       for name, (size, line, ways, source) in info["caches"].items())
    print(f"  caches:    {caches}")
    for dtype, blocks in info["gemm"].items():
        if blocks:
            mr, nr, mc, kc, nc = blocks
            kc_small, c_bytes, k_least = info["gemm_small_c"][dtype]
            print(f"  GEMM {dtype}:  tile {mr}x{nr}, blocks MC {mc} KC {kc} NC {nc} "
                  f"(from the caches, rule {info['gemm_blocks']}); KC {kc_small} where C takes "
                  f"{c_bytes // 1024} KiB or less and k >= {k_least}"
                  + ("; fewer, longer k blocks where k is a little past KC and C outgrows an A block"
                     if info["gemm_blocks"] == "l2" else ""))
    return 0


def _sheets(args):
    from . import set_isa, sheets

    if args.isa:
        set_isa(args.isa)
    if args.check:
        found = sheets.check()
        print(sheets.format_disagreements(found, args.format))
        return 1 if found else 0
    print(sheets.answer_key(args.format))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnk", description="nnk command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="the CPU, its features, the chosen ISA, SLEEF, threads")
    sh = sub.add_parser("sheets", help="the course exercises: answer key, or --check the documents")
    sh.add_argument("--check", action="store_true",
                    help="list every printed value that disagrees with nnk's (exit status 1 if any)")
    sh.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    sh.add_argument("--isa", choices=ISA_NAMES + ("auto",), help="compute on this ISA")
    bn = sub.add_parser("bench", help="scalar vs SIMD vs NumPy / PyTorch, Markdown tables")
    bn.add_argument("--quick", action="store_true", help="small sizes: seconds, not minutes")
    bn.add_argument("--json", metavar="FILE", help="save the raw results")
    bn.add_argument("--plot", metavar="FILE", help="draw GFLOP/s and speed-ups (matplotlib)")
    bn.add_argument("--threads", type=int, default=1, help="threads for every library (default 1)")
    args = parser.parse_args(argv)
    if args.command == "bench":
        from . import bench
        return bench.main(args)
    try:
        return {"info": _info, "sheets": _sheets}[args.command](args)
    except RuntimeError as e:  # an ISA this CPU cannot run: a usage error, not a traceback
        parser.error(str(e))


def _run():
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``| head``): nothing more to say.  Point stdout at devnull
        # so that the interpreter's own final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    _run()
