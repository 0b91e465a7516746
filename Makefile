# tessera: top-level, non-recursive build. Out of tree into build/, binaries in build/bin/.
# Sources are found per component folder; adding a file needs no edit here.

BUILD   ?= build
BIN     := $(BUILD)/bin
PKGS    := libzmq libsodium libsecp256k1 sqlite3 libprotobuf-c jansson libmicrohttpd libcurl OpenImageIO \
           libavformat libavcodec libavfilter libswscale libswresample libavutil xcb xcb-screensaver libsystemd zlib vulkan
CC      ?= cc
CXX     ?= c++
SAN     ?=
OPT     ?= -O2 -g
# -Wno-format-truncation is GCC's alone: clang (make fuzzlib) warns that it does not know it, on every file.
CC_IS_CLANG := $(findstring clang,$(shell $(CC) --version 2>/dev/null))
WNO_GCC := $(if $(CC_IS_CLANG),,-Wno-format-truncation)
CFLAGS  += $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter $(WNO_GCC) -Werror=implicit-function-declaration \
           -I. -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS)) $(SAN)
CXXFLAGS += $(OPT) -std=c++17 -Wall -Wextra -Wno-unused-parameter -I. $(shell pkg-config --cflags OpenImageIO libtorrent-rasterbar) $(SAN)
LDLIBS  := $(shell pkg-config --libs $(PKGS) libtorrent-rasterbar) -lpthread -lm -lstdc++
LDFLAGS += $(SAN)

PROTO_C := $(BUILD)/gen/lib/tessera.pb-c.c
PROTO_H := $(BUILD)/gen/lib/tessera.pb-c.h

# Library parts: every .c/.cpp in these folders except program mains (*_main.c).
LIBDIRS := lib splitter verifier torrent escrow
LIB_SRC := $(filter-out %_main.c,$(foreach d,$(LIBDIRS),$(wildcard $(d)/*.c $(d)/*.cpp)))
LIB_OBJ := $(patsubst %,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/tessera.pb-c.o $(BUILD)/obj/gen/ts_contracts_bin.o
LIB_A   := $(BUILD)/libtessera.a

MASTER_SRC := $(filter-out %_main.c %_test.c,$(wildcard master/*.c))
SLAVE_SRC  := $(filter-out %_main.c,$(wildcard slave/*.c))
CLI_SRC    := $(filter-out %_main.c,$(wildcard cli/*.c))
SIM_SRC    := $(filter-out %_main.c,$(wildcard sim/*.c))

PROGS := $(BIN)/tessera-master $(BIN)/tessera-slave $(BIN)/tessera $(BIN)/tessera-compare $(BIN)/tessera-sheet \
         $(BIN)/ts_selftest $(BIN)/tessera-gui $(BIN)/ts_gui_selftest $(BIN)/tessera-slavesim

.PHONY: all deps check demo clean asan check-asan libs fuzzlib
all: $(PROGS) $(BIN)/tessera-worker.py $(BIN)/tessera-deps.py

# One protoc-c run makes both files (a grouped target: with -j, two runs raced, rewriting the header under compiles).
$(PROTO_C) $(PROTO_H) &: lib/tessera.proto
	@mkdir -p $(BUILD)/gen/lib
	protoc-c --c_out=$(BUILD)/gen lib/tessera.proto

# The contracts' creation bytecode, compiled by solc-js from npm (make deps installs it; nothing is downloaded here).
CONTRACTS_C := $(BUILD)/gen/escrow/ts_contracts_bin.c
$(CONTRACTS_C): escrow/contracts/compile.js $(wildcard escrow/contracts/*.sol) escrow/contracts/package-lock.json
	@mkdir -p $(dir $@) $(BUILD)/contracts
	@test -d escrow/contracts/node_modules || { echo "escrow/contracts/node_modules is missing: run make deps"; exit 1; }
	node escrow/contracts/compile.js $(BUILD)/contracts --c $@

$(BUILD)/obj/gen/ts_contracts_bin.o: $(CONTRACTS_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/gen/tessera.pb-c.o: $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.c.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.cpp.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

obj = $(patsubst %,$(BUILD)/obj/%.o,$(1))

# The master's parts without its main and self-tests, as an archive for programs linked outside this Makefile (fuzzers).
MASTER_A := $(BUILD)/libtessera-master.a
$(MASTER_A): $(call obj,$(MASTER_SRC))
	@rm -f $@
	ar rcs $@ $^

libs: $(LIB_A) $(MASTER_A)

$(BIN)/tessera-master: $(call obj,$(MASTER_SRC) master/master_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/tessera-slave: $(call obj,$(SLAVE_SRC) slave/slave_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/tessera: $(call obj,$(CLI_SRC) cli/cli_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Many slaves in one process against a real master, for scheduler benchmarks (bench/bench_scheduler.py).
$(BIN)/tessera-slavesim: $(call obj,$(SIM_SRC) sim/slavesim_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# One binary holding every self-test (ts_<thing>_test), run all or one by name.
$(BIN)/tessera-compare: $(call obj,verifier/compare_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/tessera-sheet: $(call obj,splitter/sheet_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The artists' desktop app (gui/, GTK 4.8's API and no later): its templates and style in one GResource; its models'
# self-tests (gui/*_test.c) in ts_gui_selftest, which needs no display.
GUI_PKGS   := gtk4 libcurl jansson
GUI_CFLAGS := $(shell pkg-config --cflags $(GUI_PKGS)) -DGDK_VERSION_MIN_REQUIRED=GDK_VERSION_4_8 \
              -DGDK_VERSION_MAX_ALLOWED=GDK_VERSION_4_8 -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 \
              -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
GUI_LDLIBS := -Wl,--as-needed $(shell pkg-config --libs $(GUI_PKGS)) $(LDLIBS)
GUI_RES    := $(BUILD)/gen/gui/ts_resources.c
GUI_OBJ    := $(call obj,$(filter-out %_main.c %_test.c,$(wildcard gui/*.c))) $(BUILD)/obj/gen/gui/ts_resources.o
$(call obj,$(wildcard gui/*.c) tests/gui_selftest_main.c) $(BUILD)/obj/gen/gui/ts_resources.o: CFLAGS += $(GUI_CFLAGS)

$(GUI_RES): gui/tessera-gui.gresource.xml $(wildcard gui/*.ui gui/*.css)
	@mkdir -p $(dir $@)
	glib-compile-resources --sourcedir=gui --generate-source --target=$@ $<

$(BUILD)/obj/gen/gui/ts_resources.o: $(GUI_RES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/tessera-gui: $(GUI_OBJ) $(call obj,gui/gui_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(GUI_LDLIBS) -o $@

$(BIN)/ts_gui_selftest: $(GUI_OBJ) $(call obj,$(wildcard gui/*_test.c) tests/gui_selftest_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(GUI_LDLIBS) -o $@

# Test support linked into ts_selftest only (the daemons never link it).
TEST_SRC := tests/ts_testmedia.c $(wildcard master/*_test.c)

$(BIN)/ts_selftest: $(call obj,$(MASTER_SRC) $(SLAVE_SRC) $(CLI_SRC) $(TEST_SRC) tests/selftest_main.c) $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/tessera-worker.py: slave/blender_worker.py
	@mkdir -p $(BIN)
	cp $< $@

$(BIN)/tessera-deps.py: cli/tessera_deps.py
	@mkdir -p $(BIN)
	cp $< $@

deps:
	bash tools/install-deps.sh

check: all
	bash tests/run.sh

demo: all
	bash samples/demo.sh

asan:
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" OPT="-O1 -g" all

# The libraries (libtessera.a, libtessera-master.a) built by clang for libFuzzer targets (tests/test_fuzz.sh links them).
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzzlib:
	$(MAKE) BUILD=build-fuzz CC=clang CXX=clang++ SAN="$(FUZZ_SAN)" OPT="-O1 -g" libs

# A variable's value, for scripts that build against the libraries (tests/test_fuzz.sh: make -s print-LDLIBS).
print-%:
	@echo '$($*)'

# The integration tests against AddressSanitizer/UBSan builds of the daemons and CLI (leaks fail a daemon's exit).
check-asan: asan
	TESSERA_BIN=$(CURDIR)/build-asan/bin ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  bash tests/run.sh test_farm_exact.sh test_farm_bad_input.sh test_farm_faults.sh test_slave_blender_faults.sh \
	  test_transcode.sh test_torrent_farm.sh test_ledger_farm.sh test_evm_farm.sh test_noise_farm.sh test_dispute_farm.sh \
	  test_contactsheet_farm.sh test_project_farm.sh test_accounts_farm.sh test_guest_farm.sh test_batch_farm.sh \
	  test_events_farm.sh test_sandbox_farm.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
