"""Build of nnk: per-ISA static libraries linked into one CPython extension.

Each ISA's sources (``csrc/*/*_<isa>.c``) form a small static library with that ISA's
flags (``build_clib`` takes per-library ``cflags``); nothing else is compiled with ISA
flags, so the extension imports and picks its path at run time on any x86-64 or
aarch64 CPU.  SLEEF is found through pkg-config.
"""
import glob
import platform
import shutil
import subprocess

from setuptools import Extension, setup

SLEEF_MISSING = (
    "nnk needs SLEEF, the vectorised math library, and pkg-config to find it.\n"
    "On Debian/Ubuntu: apt-get install libsleef-dev pkg-config   (or run `make test`, "
    "which installs it)."
)


def pkg_config(*args):
    if shutil.which("pkg-config") is None:
        raise SystemExit(SLEEF_MISSING)
    try:
        out = subprocess.run(["pkg-config", *args, "sleef"], check=True, capture_output=True,
                             text=True).stdout
    except subprocess.CalledProcessError:
        raise SystemExit(SLEEF_MISSING) from None
    return out.split()


SLEEF_CFLAGS = pkg_config("--cflags")
SLEEF_LIBS = pkg_config("--libs")

def read_flags(path="csrc/isa_flags.txt"):
    """Flags per source group, shared with the C test driver's build (csrc/tests/build.sh)."""
    flags = {}
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                group, _, rest = line.partition(":")
                flags[group.strip()] = rest.split()
    return flags


INCLUDE = ["csrc/include"]
FLAGS = read_flags()
# Every header and the flags file: kernels are written once in *_impl.h and helper
# headers, so an edit there must recompile the sources that include them (setuptools
# compares objects with their sources only, unless told of more).
DEPENDS = sorted(glob.glob("csrc/**/*.h", recursive=True)) + ["csrc/isa_flags.txt"]
COMMON = FLAGS["common"] + SLEEF_CFLAGS
machine = platform.machine().lower()
isas = ["scalar"]
if machine in ("x86_64", "amd64"):
    isas += ["avx2", "avx512"]
elif machine in ("aarch64", "arm64"):
    isas.append("neon")

libraries = [
    (f"nnk_{isa}", {
        "sources": sorted(glob.glob(f"csrc/*/*_{isa}.c")),
        "include_dirs": INCLUDE,
        "cflags": COMMON + FLAGS[isa],
        "obj_deps": {"": DEPENDS},
    })
    for isa in isas
]

extension = Extension(
    "nnk._C",
    sources=sorted(glob.glob("csrc/dispatch/*.c") + glob.glob("csrc/threads/*.c"))
    + ["csrc/gemm/gemm.c", "csrc/layers/linear.c", "csrc/rnn/rnn.c", "csrc/python/module.c"],
    include_dirs=INCLUDE,
    depends=DEPENDS,
    extra_compile_args=COMMON + FLAGS["base"],
    # Link arguments come after the static ISA libraries, which need SLEEF.
    extra_link_args=SLEEF_LIBS + ["-pthread"],
)

setup(libraries=libraries, ext_modules=[extension])
