# nnk — two commands: `make demo` and `make test`.  Each installs what is missing
# (Debian packages with apt-get, Python packages into .venv), builds, and runs.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
ARCH   := $(shell uname -m)
# root runs apt-get directly; anyone else through sudo
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
EXT_SRC := $(shell find csrc bench -name '*.c' -o -name '*.h') meson.build meson.options
EXT_STAMP := build/.ext-built
# One build (meson.build): the extension, the C test driver and the C benchmarks from one
# static libnnk.  meson and ninja come from .venv.
MESON := PATH="$(abspath $(VENV))/bin:$$PATH" $(abspath $(VENV))/bin/meson
BUILD := build/meson
# Configure a build directory once (meson reconfigures itself when meson.build changes).
meson_setup = [ -f $(1)/build.ninja ] || $(MESON) setup $(1) $(2)
# A copy of the package at $(2) with build $(1)'s extension in it, to import from there.
define stage_ext
	rm -rf $(2) && mkdir -p $(2) && cp -r nnk $(2)/ && rm -rf $(2)/nnk/_C*.so $(2)/nnk/__pycache__
	cp $(1)/_C*.so $(2)/nnk/
endef

.PHONY: all demo wheel test-wheel test test-py test-mpi test-c test-exhaustive test-neon test-asan test-asan-build test-tsan test-valgrind fuzz bench clean deps-sys

all: $(EXT_STAMP)

# ---- set-up ------------------------------------------------------------------
# apt-get runs only if a package is missing (pkg:native counts: with the arm64 SLEEF for
# the NEON tests installed too, a bare name is ambiguous to dpkg).
define apt_install
	@native=$$(dpkg --print-architecture); missing=""; for p in $(1); do \
	  dpkg -s "$$p" >/dev/null 2>&1 || dpkg -s "$$p:$$native" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then \
	    echo "error: need root or sudo to install$$missing (apt-get install$$missing)"; exit 1; fi; \
	  $(APT) update -qq && $(APT) install -y -qq $$missing >/dev/null || \
	    { echo "error: could not install$$missing with apt-get"; exit 1; }; \
	fi
endef

deps-sys:
	$(call apt_install,libsleef-dev pkg-config)

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements-dev.txt
	touch $@

# PyTorch for the agreement tests; where it cannot be installed they skip, visibly.
$(VENV)/.torch: requirements-torch.txt | $(VENV)/.installed
	$(VPY) -m pip install -q -r requirements-torch.txt || echo "warning: PyTorch not installed; its tests will skip"
	touch $@

# The extension (copied into nnk/ so that the source tree imports), the C driver and
# benchmarks, rebuilt when a C source or the build changed.  The build's own exit status
# decides: a compile error fails here, whatever module an earlier build left behind.
define build_logged
	@mkdir -p build
	@echo "building (log: $(2))"
	@($(1)) > $(2) 2>&1 || { cat $(2); echo "error: the build failed (log above: $(2))"; exit 1; }
	@grep -E "warning|error" $(2) || :
endef

$(EXT_STAMP): $(EXT_SRC) | deps-sys $(VENV)/.installed
	$(call build_logged,$(call meson_setup,$(BUILD)) && $(MESON) compile -C $(BUILD),build/ext.log)
	rm -f nnk/_C*.so && cp $(BUILD)/_C*.so nnk/
	@touch $@

# ---- run ---------------------------------------------------------------------
demo: $(EXT_STAMP)
	$(VPY) -m nnk info
	PYTHONPATH=$(CURDIR) $(VPY) examples/demo.py

# The C driver (every ISA against scalar), then the pytest suite: tests of kernel results
# run once per ISA this CPU runs (tests/conftest.py's `isa` fixture), the others once.
test: test-c test-py

test-py: $(EXT_STAMP) $(VENV)/.torch
	$(if $(filter x86_64,$(ARCH)),$(call apt_install,qemu-user binutils))
	$(VPY) -m pytest -q tests

# nnk.distributed on two ranks (tests/mpi): every test runs on both, under mpiexec from
# .venv (the MPICH wheels; loopback only).  A hung collective fails the run after 10 min.
test-mpi: $(EXT_STAMP)
	NNK_MPI_TESTS=1 timeout 600 $(VENV)/bin/mpiexec -n 2 \
	  $(VPY) -m pytest -q -p no:cacheprovider tests/mpi
	PYTHONPATH=$(CURDIR) timeout 300 $(VENV)/bin/mpiexec -n 2 \
	  $(VPY) examples/train_ddp.py --epochs 2

test-c: $(EXT_STAMP)
	$(MESON) test -C $(BUILD) -v

# Every float32 input (2^32) through float32 exp, log, tanh, sigmoid and GELU on every
# ISA this CPU runs, against a float64 reference: the worst error must be within 1 ULP
# (csrc/tests/exhaustive.c; all threads, a few minutes).
test-exhaustive: $(EXT_STAMP)
	./$(BUILD)/exhaustive

# NEON kernels cross-compiled for aarch64 and run under qemu against the scalar ones.
test-neon:
	@dpkg --print-foreign-architectures | grep -qx arm64 || $(SUDO) dpkg --add-architecture arm64
	$(call apt_install,gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libsleef-dev:arm64)
	$(MAKE) $(VENV)/.installed
	$(call meson_setup,build/aarch64,--cross-file build-aux/aarch64-linux-gnu.ini -Dpython=false)
	$(MESON) test -C build/aarch64 -v

# AddressSanitizer + UndefinedBehaviorSanitizer: the C driver, then the extension (its
# own build in build/asan, staged with the Python sources in build/asan/stage) under the
# pytest suite with the runtimes preloaded into Python (run from the stage, so that its
# instrumented nnk is the one imported).  Any report fails the run.  Leak checking is off
# for the Python process (the interpreter keeps objects until exit); the C driver runs
# with it on.
SAN_ARGS := -Db_sanitize=address,undefined -Db_lundef=false -Ddebug=true \
	-Dc_args="-fno-sanitize-recover=all -fno-omit-frame-pointer"
SAN_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 NNK_SANITIZED=1 \
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)"
STAGE := build/asan/stage

test-asan-build: $(EXT_STAMP)
	$(call build_logged,$(call meson_setup,build/asan,$(SAN_ARGS)) && $(MESON) compile -C build/asan,build/asan-build.log)
	$(call stage_ext,build/asan,$(STAGE))

test-asan: test-asan-build
	ASAN_OPTIONS=detect_leaks=1 ./build/asan/ctest
	cd $(STAGE) && $(SAN_ENV) $(CURDIR)/$(VPY) -m pytest -q -p no:cacheprovider \
	  --rootdir=$(CURDIR) -c $(CURDIR)/pyproject.toml \
	  --ignore=$(CURDIR)/tests/test_torch_agreement.py --ignore=$(CURDIR)/tests/test_bench.py \
	  $(CURDIR)/tests

# ThreadSanitizer on the C driver: the thread pool, its barriers and the threaded GEMM
# (1 and 2 threads, bitwise equal) without a data race.
test-tsan: | deps-sys $(VENV)/.installed
	$(call build_logged,$(call meson_setup,build/tsan,-Db_sanitize=thread -Ddebug=true -Dpython=false) && $(MESON) compile -C build/tsan ctest,build/tsan-build.log)
	TSAN_OPTIONS=halt_on_error=1 ./build/tsan/ctest

# valgrind memcheck on the C driver: no invalid access, no uninitialised read, no
# definite leak (the pool's parked workers keep their stacks: "possibly lost", not ours).
test-valgrind: $(EXT_STAMP)
	$(call apt_install,valgrind)
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite ./$(BUILD)/ctest

# The binding under atheris for FUZZ_SECONDS (default 60; CI runs a short one), guided by
# the coverage of nnk's own C code: the extension built by clang with libFuzzer's
# coverage counters (-fsanitize=fuzzer-no-link), ASan, and UBSan trapping (no runtime of
# its own), and atheris's ASan runtime with libFuzzer in it preloaded.  (With gcc's ASan
# runtime preloaded libFuzzer saw no coverage at all, of C or Python: it mutated one
# empty input at random, and a read one element past a map's end went unfound in 120 s
# that this finds in seconds.)  A bad access is reported, not just a crash; an input
# that runs a minute is a finding too (a hang).
FUZZ_SECONDS ?= 60
FUZZ_ARGS := -Db_sanitize=address -Db_lundef=false -Ddebug=true \
	-Dc_args="-fsanitize=fuzzer-no-link -fsanitize=undefined -fsanitize-trap=undefined -fno-omit-frame-pointer"
FUZZ_STAGE := build/fuzz/stage
# (the extension alone: the C driver and benchmarks of that build are never run)
fuzz: $(EXT_STAMP)
	$(call apt_install,clang)
	$(call build_logged,export CC=clang && $(call meson_setup,build/fuzz,$(FUZZ_ARGS)) && \
	  $(MESON) compile -C build/fuzz "_C$$($(VPY) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')",build/fuzz-build.log)
	$(call stage_ext,build/fuzz,$(FUZZ_STAGE))
	cd $(FUZZ_STAGE) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \
	  LD_PRELOAD="$$($(CURDIR)/$(VPY) -c 'import atheris; print(atheris.path())')/asan_with_fuzzer.so" \
	  PYTHONPATH=$(CURDIR)/$(FUZZ_STAGE) $(CURDIR)/$(VPY) $(CURDIR)/tests/fuzz/fuzz_binding.py \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=60 -rss_limit_mb=4096 -print_final_stats=1

# C-level GEMM GFLOP/s per ISA (1 and all threads), then the Python-level tables, and
# last the goals read off them (nnk/bench_goals.py: each measured ratio beside its target) and
# the rows slower than the CPU's last run (nnk/bench_compare.py, against its results file's
# tables); the whole run is kept in bench/RESULTS-<vendor>-family<F>-model<M>.md, one file per CPU
# (figures from one CPU say nothing of another), from which the README's tables are taken.
CPU_SLUG = $(shell awk -F': *' '/^vendor_id/{v=$$2} /^cpu family/{f=$$2} /^model[[:space:]]*:/{m=$$2} \
  END{sub(/^Authentic|^Genuine/,"",v); printf "%s-family%s-model%s", tolower(v), f, m}' /proc/cpuinfo)
# A step that fails fails the target and leaves the CPU's last complete file in place
# (the run goes to build/RESULTS.part; build/bench.ok marks that every step finished).
bench: $(EXT_STAMP) $(VENV)/.torch
	rm -f build/bench.ok
	{ PYTHONPATH=$(CURDIR) $(VPY) -m nnk bench --json build/bench.json --plot bench/bench.png && \
	  echo && echo "## The same at all cores ($$(nproc) threads)" && echo && \
	  PYTHONPATH=$(CURDIR) $(VPY) -m nnk bench --quick --threads $$(nproc) --json build/bench-all.json > build/bench-all.md && \
	  sed -n '/^## GEMM/,/^## Elementwise/p' build/bench-all.md | sed '$$d' && \
	  echo && echo "## C-level elementwise and the machine's limits" && echo && ./$(BUILD)/vmath_bench && \
	  echo && echo "## C-level GEMM (no Python), one thread" && echo && ./$(BUILD)/gemm_bench 1 && \
	  echo && echo "## C-level GEMM, all cores" && echo && ./$(BUILD)/gemm_bench $$(nproc) 256 1024 2048 && \
	  echo && echo "## C-level GEMM thread scaling" && echo && \
	  ./$(BUILD)/gemm_bench scaling $$(nproc) 1024 2048 > build/bench-scaling.md && cat build/bench-scaling.md && \
	  echo && echo "## float32 maps over every input (make test-exhaustive)" && echo && \
	  ./$(BUILD)/exhaustive > build/bench-exhaustive.md && cat build/bench-exhaustive.md && \
	  echo && echo "## The goals on this CPU, from this run" && echo && \
	  PYTHONPATH=$(CURDIR) $(VPY) -m nnk.bench_goals build/bench.json build/bench-all.json \
	    build/bench-scaling.md build/bench-exhaustive.md && \
	  { [ ! -f bench/RESULTS-$(CPU_SLUG).md ] || { echo && echo "## Against this CPU's last run" && echo && \
	    PYTHONPATH=$(CURDIR) $(VPY) -m nnk.bench_compare bench/RESULTS-$(CPU_SLUG).md build/bench.json; }; } && \
	  touch build/bench.ok; \
	} | tee build/RESULTS.part
	test -f build/bench.ok
	mv build/RESULTS.part bench/RESULTS-$(CPU_SLUG).md

# ---- the wheel ---------------------------------------------------------------
# dist/: the sdist (meson dist of the committed tree: uncommitted changes are not in it)
# and a wheel built from that sdist in an isolated environment (python -m build), repaired
# by auditwheel: libsleef is copied into nnk.libs/ under a hashed name and the extension's
# RPATH points there, so pip installs it where there is no compiler and no SLEEF; the
# platform tag names the oldest glibc the wheel runs on.  (No libgomp to carry: nnk's
# threads are its own pool over pthreads, which glibc provides.)
AUDITWHEEL := PATH="$(abspath $(VENV))/bin:$$PATH" $(abspath $(VENV))/bin/auditwheel
wheel: | deps-sys $(VENV)/.installed
	@git diff --quiet HEAD -- 2>/dev/null || echo "note: uncommitted changes are not in the sdist or the wheel (both build from HEAD)"
	rm -rf dist && $(VPY) -m build --outdir dist/unrepaired .
	$(AUDITWHEEL) repair --wheel-dir dist dist/unrepaired/*.whl
	mv dist/unrepaired/*.tar.gz dist/ && rm -rf dist/unrepaired
	$(AUDITWHEEL) show dist/*.whl

# The wheel installed into a fresh venv with no build tools and run with the system's
# libsleef hidden from the loader (a mount namespace), on every ISA; the sdist's build
# without SLEEF stops with its message (tests/wheel).
test-wheel: wheel
	$(call apt_install,util-linux pkg-config)
	NNK_WHEEL="$$(ls $(CURDIR)/dist/*.whl)" NNK_SDIST="$$(ls $(CURDIR)/dist/*.tar.gz)" \
	  $(VPY) -m pytest -q -p no:cacheprovider --confcutdir=tests/wheel tests/wheel

clean:
	rm -rf build dist nnk/_C*.so
