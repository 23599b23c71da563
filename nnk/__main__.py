"""``python -m nnk info``: what nnk sees of this machine."""
import argparse
import sys

from . import cpu_info


def _info(args):
    info = cpu_info()
    print(f"nnk on {info['arch']}: {info['cpu']}")
    print(f"  features:  {' '.join(info['features']) or '(none detected)'}")
    print(f"  ISA:       {info['isa']} (best: {info['best']}; available: "
          f"{', '.join(info['available'])})")
    print(f"  SLEEF:     {info['sleef']}")
    print(f"  threads:   {info['threads']}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnk", description="nnk command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="the CPU, its features, the chosen ISA, SLEEF, threads")
    args = parser.parse_args(argv)
    return {"info": _info}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
