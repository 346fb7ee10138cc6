# ntmem build. Sources are found by wildcard so that a new file needs no edit
# here: src/{util,source,mm,nt,pe}/*.c make libntmem.a, src/cli/*.c the tool,
# tests/unit/test_*.c one cmocka binary each, tests/e2e/test_*.py the
# end-to-end suite (run by tests/e2e/run.py).

BUILD    ?= build
CC       ?= cc
PYTHON   ?= python3
SANITIZE ?=
OPT      ?= -O2

PKGS      := libaddrxlat libkdumpfile jansson zlib
TEST_PKGS := cmocka

# Debian 12 packages by need. `make deps` installs what building (and the
# demo: python3 runs the fixture generator) needs; `make deps-test` adds what
# the tests use: cmocka (unit), pev and the mingw binutils (readpe and
# objdump open carved images), the mingw-w64 x86_64 compiler (the fixture
# generator builds its PE32+ driver with it; without it the x64 fixtures are
# skipped with a notice), mingw-w64-common (dbgeng.h offsets), clang
# and its runtime (libFuzzer), valgrind, man-db (man -l renders the page),
# chromium and a font for its text (renders report --html), parallel (the batch recipe).
DEB_BUILD := build-essential pkg-config libkdumpfile-dev zlib1g-dev libjansson-dev python3
DEB_TEST  := libcmocka-dev pev binutils-mingw-w64-i686 binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64 \
	     mingw-w64-common clang libclang-rt-14-dev \
	     valgrind man-db chromium fonts-liberation parallel

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude $(PKG_CFLAGS)
ifeq ($(SANITIZE),fuzz)
# Library objects for libFuzzer targets: coverage hooks, no main.
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
else ifneq ($(SANITIZE),)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS  := $(sort $(wildcard src/util/*.c src/source/*.c src/mm/*.c src/nt/*.c src/pe/*.c))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HEADERS   := $(wildcard include/ntmem/*.h src/*/*.h tests/unit/*.h)

FIXDIR    ?= build/fixtures
FIXTURES  := $(FIXDIR)/.stamp
DEMO_DUMP := $(FIXDIR)/xp-sp2-seed-full.dmp

.PHONY: all deps deps-test install uninstall lib demo check check-fixtures unit e2e fixtures corpus check-sanitize check-valgrind bench fuzz fuzz-bins build-fuzz-bins check-fuzz clean
.DELETE_ON_ERROR:

all: $(BUILD)/ntmem

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libntmem.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The same objects as a shared library for other programs (include/ntmem/,
# pkg-config ntmem); the tool itself links the static one. Soname major 0:
# the C interface is not frozen yet (only the command line and JSON are).
VERSION := $(shell sed -n 's/^\#define NTMEM_VERSION "\(.*\)"/\1/p' include/ntmem/ntmem.h)
SONAME  := libntmem.so.0
$(LIB_OBJS): CFLAGS += -fPIC

$(BUILD)/libntmem.so.$(VERSION): $(LIB_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -Wl,--as-needed -o $@ $^ $(PKG_LIBS)

lib: $(BUILD)/libntmem.a $(BUILD)/libntmem.so.$(VERSION) $(BUILD)/ntmem.pc

# Made every time: it holds PREFIX, which may differ from the last run.
$(BUILD)/ntmem.pc: ntmem.pc.in FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
	  -e 's|@REQUIRES@|$(strip $(PKGS:jansson=))|' $< > $@

$(BUILD)/ntmem: $(CLI_OBJS) $(BUILD)/libntmem.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libntmem.a $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libntmem.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libntmem.a $(PKG_LIBS) $(TEST_LIBS)

# Installs what is missing (Debian 12, as root, with apt's own progress); as
# another user, or without apt, prints the exact command and fails, so that
# the build does not go on to fail later for a reason less plain.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "$(2): all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "$(2): installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	  echo "$(2): missing Debian packages; as root run:" >&2; \
	  echo "  apt-get update && apt-get install -y --no-install-recommends$$missing" >&2; exit 1; \
	fi
endef

deps:
	$(call install_missing,$(DEB_BUILD),deps)

deps-test: deps
	$(call install_missing,$(DEB_TEST),deps-test)

$(FIXTURES): $(wildcard fixtures/*.py fixtures/*/*.py)
	@mkdir -p $(dir $@)
	$(PYTHON) fixtures/generate.py --out $(FIXDIR)
	$(PYTHON) fixtures/corrupt.py --in $(FIXDIR) --out $(FIXDIR)/corrupt
	$(PYTHON) fixtures/containers.py --in $(FIXDIR) --out $(FIXDIR)/containers
	@touch $@

fixtures: $(FIXTURES)

# The corrupted-dump corpus alone (also made by the fixtures rule).
corpus: $(FIXTURES)

# The main job on the bundled default dump: the seed system of the thread.
demo: deps
	$(MAKE) all fixtures
	$(BUILD)/ntmem report $(DEMO_DUMP) -o $(BUILD)/demo-carve --force

# Installation (GNU conventions: PREFIX, DESTDIR and the *DIR variables).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install

INSTALLED_FILES := $(BINDIR)/ntmem $(MANDIR)/man1/ntmem.1 $(BASHCOMPDIR)/ntmem \
	$(LIBDIR)/libntmem.a $(LIBDIR)/libntmem.so.$(VERSION) $(LIBDIR)/$(SONAME) $(LIBDIR)/libntmem.so \
	$(LIBDIR)/pkgconfig/ntmem.pc $(patsubst include/%,$(INCLUDEDIR)/%,$(wildcard include/ntmem/*.h))

# The man page and the bash completion are printed by the tool from its
# usage table (src/cli/usage.c), the one source of --help as well.
$(BUILD)/ntmem.1: $(BUILD)/ntmem
	$(BUILD)/ntmem --man > $@

$(BUILD)/ntmem.bash: $(BUILD)/ntmem
	$(BUILD)/ntmem --bash-completion > $@

install: all lib $(BUILD)/ntmem.1 $(BUILD)/ntmem.bash
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/ntmem
	$(INSTALL) -m 755 $(BUILD)/ntmem $(DESTDIR)$(BINDIR)/ntmem
	$(INSTALL) -m 644 $(BUILD)/ntmem.1 $(DESTDIR)$(MANDIR)/man1/ntmem.1
	$(INSTALL) -m 644 $(BUILD)/ntmem.bash $(DESTDIR)$(BASHCOMPDIR)/ntmem
	$(INSTALL) -m 644 $(BUILD)/libntmem.a $(DESTDIR)$(LIBDIR)/libntmem.a
	$(INSTALL) -m 755 $(BUILD)/libntmem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libntmem.so.$(VERSION)
	ln -sf libntmem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libntmem.so
	$(INSTALL) -m 644 $(BUILD)/ntmem.pc $(DESTDIR)$(LIBDIR)/pkgconfig/ntmem.pc
	$(INSTALL) -m 644 include/ntmem/*.h $(DESTDIR)$(INCLUDEDIR)/ntmem/

# Removes exactly the files install puts there, then the folders install
# made for ntmem alone if they are empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/ntmem 2>/dev/null

# Each stage records its passed/failed/skipped counts in $(NTMEM_COUNTS) when
# make check sets it (tests/check_counts.py); NTMEM_STAGE prefixes the label.
export NTMEM_COUNTS NTMEM_STAGE

unit: $(UNIT_BINS)
	@$(PYTHON) tests/check_counts.py unit unit $(UNIT_BINS)

e2e: $(BUILD)/ntmem $(FIXTURES)
	NTMEM=$(BUILD)/ntmem FIXTURES=$(FIXDIR) BUILD=$(BUILD) $(PYTHON) tests/e2e/run.py

# Everything, then everything again under AddressSanitizer + UBSan, each
# fuzz target for a short run, and the e2e suite once under valgrind
# (docs/robustness.md; about 5 minutes of CPU for the valgrind stage).
# Every stage runs even when one before it failed, so that the last line,
# `check: N passed, N failed, N skipped`, counts them all; a stage that fails
# without a test to blame (a build error) counts as one failure. Nothing here
# needs ../shared: tests of the real files beside the repository skip without it.
CHECK_STAGES := check-fixtures unit e2e check-sanitize check-fuzz check-valgrind
CHECK_COUNTS := $(CURDIR)/$(BUILD)/check-counts

check: deps-test
	@rm -rf $(CHECK_COUNTS)
	@statuses=""; for stage in $(CHECK_STAGES); do \
	  echo "==== make $$stage"; \
	  $(MAKE) --no-print-directory NTMEM_COUNTS=$(CHECK_COUNTS) $$stage; statuses="$$statuses $$stage=$$?"; \
	done; \
	$(PYTHON) tests/check_counts.py summary $(CHECK_COUNTS) $$statuses

# The generator checks its own output with a reader of its own.
check-fixtures:
	$(PYTHON) tests/e2e/run.py --dir fixtures/tests --label fixtures

check-sanitize:
	$(MAKE) BUILD=build-asan SANITIZE=1 NTMEM_STAGE=asan unit e2e

# The e2e suite under valgrind memcheck, in two halves at once (valgrind
# runs are slow and single-threaded); each half's log is in $(BUILD).
VALGRIND_HALVES := 'test_[a-m]*.py' 'test_[!a-m]*.py'

check-valgrind: all $(FIXTURES)
	@export NTMEM_WRAPPER="$(CURDIR)/fuzz/valgrind.sh" NTMEM=$(BUILD)/ntmem FIXTURES=$(FIXDIR) BUILD=$(BUILD) NTMEM_STAGE=valgrind; \
	i=0; pids=""; for half in $(VALGRIND_HALVES); do i=$$((i + 1)); \
	  $(PYTHON) tests/e2e/run.py "$$half" > $(BUILD)/valgrind-$$i.log 2>&1 & pids="$$pids $$!"; \
	done; status=0; for p in $$pids; do wait $$p || status=1; done; \
	for l in $(BUILD)/valgrind-*.log; do \
	  if [ $$status != 0 ]; then grep -E -A25 '^(FAIL|ERROR):' $$l || true; fi; \
	  echo "valgrind: $$(tail -n 1 $$l)"; done; exit $$status

# libFuzzer targets (clang): fuzz/fuzz_NAME.c -> build-fuzz/fuzz_NAME, linked
# with the library built for fuzzing. Committed seeds are in fuzz/corpus/NAME;
# new inputs go to build-fuzz/corpus/NAME so the tree stays clean. Inputs
# that once found a bug are in fuzz/regressions/NAME and run every time.
FUZZ_BUILD   := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SRCS    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRCS:fuzz/%.c=%)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1
CHECK_FUZZ_SECONDS ?= 20

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_BUILD)/libntmem.a $(HEADERS)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_BUILD)/libntmem.a $(PKG_LIBS)

# The CLI target runs the tool's main() (renamed) over a fuzzer-made file.
$(BUILD)/fuzz/cli_main.o: src/cli/main.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Dmain=ntmem_cli_main -c $< -o $@

$(FUZZ_BUILD)/fuzz_cli: fuzz/fuzz_cli.c $(filter-out %/main.o,$(CLI_OBJS)) $(BUILD)/fuzz/cli_main.o $(FUZZ_BUILD)/libntmem.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(filter-out %/main.o,$(CLI_OBJS)) $(BUILD)/fuzz/cli_main.o $(FUZZ_BUILD)/libntmem.a $(PKG_LIBS)

fuzz-bins: $(FUZZ_BINS)

build-fuzz-bins:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) SANITIZE=fuzz fuzz-bins

# Runs every target FUZZ_SECONDS seconds; stops at the first crash, leak,
# timeout or out-of-memory (the reproducer is left in build-fuzz/artifacts).
fuzz: build-fuzz-bins
	@$(PYTHON) fuzz/run.py --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) -- $(FUZZ_FLAGS)

check-fuzz: build-fuzz-bins
	@$(PYTHON) fuzz/run.py --build $(FUZZ_BUILD) --seconds $(CHECK_FUZZ_SECONDS) -- $(FUZZ_FLAGS)

# Speed figures (not a test): bench/run.py makes the 2 GiB dump and prints
# translations/s, info time, peak RSS, next to `cat FILE > /dev/null`.
$(BUILD)/xlat_bench: bench/xlat_bench.c $(BUILD)/libntmem.a $(HEADERS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libntmem.a $(PKG_LIBS)

bench: all $(BUILD)/xlat_bench
	BUILD=$(BUILD) NTMEM=$(BUILD)/ntmem XLAT_BENCH=$(BUILD)/xlat_bench BENCH_DIR=$(BUILD)/bench \
	  $(PYTHON) bench/run.py

FORCE:

clean:
	rm -rf build build-*
