# sembark - build, run and test.
#
#   make             build build/bin/* (installs missing Debian packages first)
#   make run         private PostgreSQL under var/, migrate, run all daemons
#   make test        unit (cmocka) + fuzz smoke + integration (pytest) + browser (Selenium) suites
#   make test-asan   the same suite with AddressSanitizer + UBSan
#   make test-faults the fault campaign under load, FAULT_ROUNDS (5) rounds
#   make screenshots the browser suite, keeping its screenshots in docs/screenshots
#   make check-units systemd-analyze verify + security on systemd/*.service
#   make man         regenerate docs/man/ (the man pages) from the built programs
#   make bench       wrk benchmarks beside their ceilings (starts `make run` if nothing runs)
#   make deb         the Debian package, in build/deb/ (debian/, docs/deploy-systemd.md)
#   make test-deb    build, lintian, install, check and purge that package (changes this host)
#   make test-boot   that package under systemd as PID 1 in a Debian 12 container (nspawn)
#   make programs    only build/bin/* and build/web (what the package ships)

VERSION  := $(shell cat VERSION)
BUILD    ?= build
PORT     ?= 8080
SAN      ?=
# PACKAGED=1: sembarkctl looks for migrations only where the package puts
# them (and --migrations, $SEMBARK_MIGRATIONS_DIR), never in a source tree;
# use a fresh BUILD: make does not rebuild objects when only flags change
PACKAGED ?=
CC       ?= cc
PYTHON   ?= /usr/bin/python3

PKGS := libevent libevent_pthreads libzmq msgpack libpq libsodium libsystemd \
        libcrypt jansson inih openssl zlib libqrencode libcurl

# pkg-config is asked lazily: on a fresh machine it runs after deps.sh.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) libevent_openssl 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
CFLAGS_BASE = -std=c17 -D_GNU_SOURCE -DSEMBARK_VERSION='"$(VERSION)"' -g $(WARN) -I. -Ishared -Iipc \
              -Iruntime \
              $(PKG_CFLAGS) \
              -fstack-protector-strong -fPIE -pthread
ifeq ($(SAN),1)
CFLAGS_MODE := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
LDFLAGS_MODE := -fsanitize=address,undefined
else
CFLAGS_MODE := -O2 -D_FORTIFY_SOURCE=2
LDFLAGS_MODE :=
endif
ifeq ($(PACKAGED),1)
CFLAGS_MODE += -DSEMBARK_PACKAGED
endif
# EXTRA_CFLAGS / EXTRA_LDFLAGS come last: debian/rules passes dpkg-buildflags there
CFLAGS  = $(CFLAGS_BASE) $(CFLAGS_MODE) $(EXTRA_CFLAGS)
LDFLAGS = -pie -Wl,-z,relro,-z,now -pthread $(LDFLAGS_MODE) $(EXTRA_LDFLAGS)
LDLIBS  = $(PKG_LIBS) -lm

SERVICES  := ingressd authd telemetryd logd maild ctl
BIN_NAMES := sembark-ingressd sembark-authd sembark-telemetryd sembark-logd sembark-maild sembarkctl

# three floors, each using only those below it: shared/ (generic C, knows
# no message), ipc/ (the message and operation tables, codecs), runtime/
# (the message-aware runtime: rpc, backend server core, daemon, log frame)
LIB_SRCS := $(sort $(wildcard shared/*.c) $(wildcard ipc/*.c) $(wildcard runtime/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/lib/libsembark.a

svc_srcs = $(sort $(wildcard services/$(1)/*.c services/$(1)/*.S))
svc_objs = $(patsubst %,$(BUILD)/obj/%.o,$(basename $(call svc_srcs,$(1))))
# a service's objects without main.o, for unit tests of its modules
svc_lib_objs = $(filter-out %/main.o,$(call svc_objs,$(1)))

BINS := $(BUILD)/bin/sembark-ingressd $(BUILD)/bin/sembark-authd \
        $(BUILD)/bin/sembark-telemetryd $(BUILD)/bin/sembark-logd \
        $(BUILD)/bin/sembark-maild $(BUILD)/bin/sembarkctl

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard tests/unit/lib/*.c)))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# bench/ceiling/: the bare programs make bench measures sembark against
BENCH_BINS := $(BUILD)/bench/hello $(BUILD)/bench/bcrypt_probe

DEPS_STAMP := $(BUILD)/.deps-ok
TEST_DEPS_STAMP := $(BUILD)/.deps-test-ok

# the browser client as ingressd serves it ([ingress] static_dir), see web/README.md
WEB_SRCS := $(shell find web/index.html web/assets 2>/dev/null)
WEB_OUT  := $(BUILD)/web/index.html

.SECONDEXPANSION:
# objects are not intermediate files: keep them so a second make is quick
.SECONDARY:

.PHONY: all deps run test test-unit test-integration test-asan test-faults test-valgrind check-units \
	bench clean distclean screenshots programs deb test-deb test-boot man
.DEFAULT_GOAL := all

all: $(BINS) $(UNIT_BINS) $(WEB_OUT) $(BENCH_BINS)

programs: $(BINS) $(WEB_OUT)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@sh scripts/deps.sh
	@mkdir -p $(@D) && touch $@
# the browser suite's packages (Chromium, ChromeDriver, Selenium): for make test only
$(TEST_DEPS_STAMP): scripts/deps.sh
	@sh scripts/deps.sh test
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# services/*/*.S (data/ files linked in with .incbin, which are prerequisites too)
incbin_deps = $(if $(wildcard $(1)),$(shell sed -n 's/^[[:space:]]*\.incbin[[:space:]]*"\([^"]*\)".*/\1/p' $(1)))
$(BUILD)/obj/%.o: %.S $$(call incbin_deps,$$*.S) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(WEB_OUT): $(WEB_SRCS) scripts/build-web.sh VERSION
	@echo "  WEB     $(BUILD)/web"
	@sh scripts/build-web.sh web $(BUILD)/web $(VERSION)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/sembark-%: $$(call svc_objs,%) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(call svc_objs,$*) $(LIB) $(LDLIBS)

$(BUILD)/bin/sembarkctl: $(call svc_objs,ctl) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(call svc_objs,ctl) $(LIB) $(LDLIBS)

# tests/unit/test-<svc>-<module>.c also links services/<svc>/ (but main.o).
unit_svc = $(firstword $(filter $(SERVICES),$(subst -, ,$(patsubst test-%,%,$(1)))))
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $$(call svc_lib_objs,$$(call unit_svc,$$*)) $(LIB) $(TESTLIB_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $< $(call svc_lib_objs,$(call unit_svc,$*)) $(TESTLIB_OBJS) $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/ceiling/%.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $< $(LDLIBS)

run: all
	@PORT=$(PORT) BUILD=$(BUILD) bash scripts/run.sh

test: all $(TEST_DEPS_STAMP)
	@$(MAKE) --no-print-directory fuzz-build
	@BUILD=$(BUILD) PYTHON=$(PYTHON) bash tests/run.sh

screenshots: all $(TEST_DEPS_STAMP)
	@SEMBARK_BUILD=$(BUILD) SEMBARK_SCREENSHOTS=$(CURDIR)/docs/screenshots \
		$(PYTHON) -m pytest tests/e2e -q -p no:cacheprovider

test-unit: all
	@BUILD=$(BUILD) PYTHON=$(PYTHON) bash tests/run.sh --unit-only

test-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test

# the fault campaign, FAULT_ROUNDS rounds (make test runs one)
FAULT_ROUNDS ?= 5
test-faults: all $(TEST_DEPS_STAMP)
	@FAULT_ROUNDS=$(FAULT_ROUNDS) SEMBARK_BUILD=$(BUILD) $(PYTHON) -m pytest -q -p no:cacheprovider \
		tests/integration/test_faults_campaign.py

# a subset of the integration suite with every sembark program under valgrind
# memcheck (normal build; see tests/integration/README.md). Not part of `make test`.
VALGRIND_TESTS ?= test_health.py test_lifecycle.py test_accounts.py test_sessions.py test_team.py \
	test_telemetry.py test_audit.py test_audit_durability.py test_logs.py test_redaction.py \
	test_retention.py test_tls.py test_csrf.py test_postgres_restart.py test_audit_ctl.py
test-valgrind: all $(TEST_DEPS_STAMP)
	@SEMBARK_BUILD=$(BUILD) SEMBARK_VALGRIND=1 nice $(PYTHON) -m pytest -q -p no:cacheprovider \
		--durations=10 $(addprefix tests/integration/,$(VALGRIND_TESTS))

check-units:
	@bash scripts/check-units.sh

# the .deb (and its -dbgsym) in build/deb/, built from a copy of the tree
deb:
	@sh scripts/deps.sh deb
	@bash scripts/build-deb.sh build/deb

# not part of `make test`: the package booted under systemd in a Debian 12 container
test-boot: deb
	@sh scripts/deps.sh boot
	@bash scripts/boot-test.sh "$$(ls -t build/deb/sembark_*.deb | grep -v dbgsym | head -n 1)"

# not part of `make test`: installs the package on this host, then purges it
test-deb:
	@SEMBARK_TEST_DEB=1 $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration/test_deb.py

# docs/man/: the man pages, from the config schema, the programs' --help and docs/man/src/
man: $(BINS)
	@$(PYTHON) scripts/man-pages.py --bin $(BUILD)/bin --out docs/man

bench: all
	@BUILD=$(BUILD) PORT=$(PORT) bash bench/run.sh

clean:
	rm -rf build build-asan

distclean: clean
	@if [ -d var ]; then bash scripts/pg.sh stop >/dev/null 2>&1 || true; fi
	@# var/ may be a link into the postgres user's home (scripts/var.sh)
	@if [ -L var ]; then rm -rf "$$(readlink -f var)"; fi
	rm -rf var

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz -name '*.d' 2>/dev/null)

# ---- fuzzing: `make fuzz [FUZZ_TIME=60]`, `make fuzz-smoke [FUZZ_SMOKE_TIME=5]` ----
# clang + libFuzzer, ASan and UBSan (an undefined behaviour aborts). The code
# under test is built again with clang into $(BUILD)/fuzz/obj (coverage
# instrumented): libsembark and, for a target that names one in
# FUZZ_SVC_<name>, that service's objects but main, as archives, so each
# target links only what it uses. tests/fuzz/README.md lists the targets.
FUZZ_TIME ?= 60
FUZZ_SMOKE_TIME ?= 5
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -DSEMBARK_VERSION='"$(VERSION)"' -g -O1 $(WARN) \
              -Wno-string-plus-int -I. -Ishared -Iipc -Iruntime $(PKG_CFLAGS) -pthread \
              -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
# the service whose code each target tests (none: libsembark alone)
FUZZ_SVC_http := ingressd
FUZZ_SVC_cookies := ingressd
FUZZ_SVC_csrf := ingressd
FUZZ_SVC_origin := ingressd
FUZZ_SVC_authd-validate := authd
FUZZ_SVC_telemetryd-validate := telemetryd
FUZZ_SVC_redact := logd
FUZZ_SVC_query := logd telemetryd
fuzz_obj = $(patsubst $(BUILD)/obj/%,$(BUILD)/fuzz/obj/%,$(1))
fuzz_svc_libs = $(foreach s,$(FUZZ_SVC_$(1)),$(BUILD)/fuzz/lib$(s).a)
.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p $$f.corpus; \
		d=tests/fuzz/$$n.dict; [ -f $$d ] && dict=-dict=$$d || dict=; \
		seeds=tests/fuzz/corpus-$${n#fuzz-}; [ -d $$seeds ] || seeds=; \
		FUZZ_IPC_SEED_DIR=$$f.corpus $$f -max_total_time=$(FUZZ_TIME) -max_len=4096 $$dict \
			-artifact_prefix=$$f- $$f.corpus $$seeds || exit 1; done
# each target on its seeds for FUZZ_SMOKE_TIME seconds (part of make test)
fuzz-smoke: $(FUZZ_BINS)
	@BUILD=$(BUILD) FUZZ_SMOKE_TIME=$(FUZZ_SMOKE_TIME) bash tests/fuzz/smoke.sh
$(BUILD)/fuzz/obj/%.o: %.c | $(DEPS_STAMP)
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: needs clang (sh scripts/deps.sh test)" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(BUILD)/fuzz/obj/%.o: %.S $$(call incbin_deps,$$*.S) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/libsembark.a: $(call fuzz_obj,$(LIB_OBJS))
	@rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/lib%.a: $$(call fuzz_obj,$$(call svc_lib_objs,%))
	@rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $$(call fuzz_svc_libs,$$*) $(BUILD)/fuzz/libsembark.a
	@mkdir -p $(@D)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(foreach s,$(FUZZ_SVC_$*),-Iservices/$(s)) -fsanitize=fuzzer \
		-MMD -MP -MF $@.d -o $@ $< $(call fuzz_svc_libs,$*) $(BUILD)/fuzz/libsembark.a $(PKG_LIBS) -lm
