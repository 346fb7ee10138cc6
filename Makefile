# ntmem build. Sources are found by wildcard so that a new file needs no edit
# here: src/{util,source,mm,nt,pe}/*.c make libntmem.a, src/cli/*.c the tool,
# tests/unit/test_*.c one cmocka binary each, tests/e2e/test_*.py the
# end-to-end suite (run by tests/e2e/run.py).

BUILD    ?= build
CC       ?= cc
PYTHON   ?= python3
SANITIZE ?=
OPT      ?= -O2

PKGS      := libaddrxlat jansson zlib
TEST_PKGS := cmocka

# Debian packages that make check needs; installed by `make deps` when missing.
DEB_BUILD := build-essential pkg-config libkdumpfile-dev zlib1g-dev libjansson-dev libcmocka-dev
DEB_TEST  := python3 pev binutils-mingw-w64-i686 gcc-mingw-w64-i686 mingw-w64-common clang valgrind libclang-rt-14-dev

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude $(PKG_CFLAGS)
ifneq ($(SANITIZE),)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS  := $(sort $(wildcard src/util/*.c src/source/*.c src/mm/*.c src/nt/*.c src/pe/*.c))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HEADERS   := $(wildcard include/ntmem/*.h src/cli/*.h tests/unit/*.h)

FIXDIR    ?= build/fixtures
FIXTURES  := $(FIXDIR)/.stamp
DEMO_DUMP := $(FIXDIR)/xp-sp2-seed-full.dmp

.PHONY: all deps demo check unit e2e fixtures check-sanitize check-valgrind bench fuzz clean
.DELETE_ON_ERROR:

all: $(BUILD)/ntmem

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libntmem.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ntmem: $(CLI_OBJS) $(BUILD)/libntmem.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libntmem.a $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libntmem.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libntmem.a $(PKG_LIBS) $(TEST_LIBS)

# Installs what is missing (Debian 12, as root); elsewhere it only says what is.
deps:
	@missing=""; for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages (install them as root):$$missing"; fi; \
	fi

$(FIXTURES): $(wildcard fixtures/*.py fixtures/*/*.py)
	@mkdir -p $(dir $@)
	$(PYTHON) fixtures/generate.py --out $(FIXDIR)
	@touch $@

fixtures: $(FIXTURES)

# The main job on the bundled default dump: the seed system of the thread.
demo: deps
	$(MAKE) all fixtures
	$(BUILD)/ntmem report $(DEMO_DUMP) -o $(BUILD)/demo-carve --force

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

e2e: $(BUILD)/ntmem $(FIXTURES)
	NTMEM=$(BUILD)/ntmem FIXTURES=$(FIXDIR) BUILD=$(BUILD) $(PYTHON) tests/e2e/run.py

# Everything, then everything again under AddressSanitizer + UBSan.
check: deps
	$(MAKE) unit e2e
	$(MAKE) check-sanitize

check-sanitize:
	$(MAKE) BUILD=build-asan SANITIZE=1 unit e2e

check-valgrind: all $(FIXTURES)
	NTMEM_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	NTMEM=$(BUILD)/ntmem FIXTURES=$(FIXDIR) BUILD=$(BUILD) $(PYTHON) tests/e2e/run.py

bench: all
	BUILD=$(BUILD) NTMEM=$(BUILD)/ntmem $(PYTHON) bench/run.py

clean:
	rm -rf build build-*
