#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS (default 10) each, one after the other,
# starting from the committed seeds (fuzz/seeds/<target>/ is copied into the untracked
# fuzz/corpus/<target>/, which keeps what earlier runs found). Prints the executions per
# target from libFuzzer's final stats and exits 1 if any target crashed, panicked, timed out
# or ran out of memory; the input that did it is in fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS=60 bash fuzz/run.sh                 # all targets, 60 s each
#   FUZZ_SECONDS=600 bash fuzz/run.sh formats yaml…  # some targets
#   FUZZ_RUNS=50000 FUZZ_SEED=1 bash fuzz/run.sh     # deterministic: that many inputs per
#                                                    # target from the seeds alone (CI)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# Honours CARGO_TARGET_DIR. One fuzzing process at a time, under nice: the fuzzers are
# single-threaded and we share the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

seconds="${FUZZ_SECONDS:-10}"
# With FUZZ_RUNS the run is reproducible: a fixed seed, a fixed number of inputs, and a
# fresh corpus made from the committed seeds only, so CI cannot fail by chance on an input
# nobody has seen; open-ended fuzzing (FUZZ_SECONDS) is for finding new bugs.
runs="${FUZZ_RUNS:-}"
if (($# == 0)); then
    mapfile -t targets < <(cargo +nightly fuzz list)
else
    targets=("$@")
fi

# One build for all targets, then run the binaries directly: `cargo fuzz run` would check
# the build again for every target.
if (($# == 0)); then
    nice cargo +nightly fuzz build -O >&2
else
    for t in "${targets[@]}"; do nice cargo +nightly fuzz build -O "$t" >&2; done
fi
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="${CARGO_TARGET_DIR:-$PWD/target}/$triple/release"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
failed=()
total=0
for t in "${targets[@]}"; do
    mkdir -p "artifacts/$t"
    if [[ -n $runs ]]; then
        corpus="$(mktemp -d)"
        limit=(-runs="$runs" -seed="${FUZZ_SEED:-1}")
    else
        corpus="corpus/$t"
        limit=(-max_total_time="$seconds")
    fi
    mkdir -p "$corpus"
    [[ -d "seeds/$t" ]] && cp -n seeds/"$t"/* "$corpus/" 2>/dev/null || true
    status=0
    # -timeout: one input taking 5 s is a hang (the parsers take microseconds).
    nice "$bin_dir/$t" "$corpus" -artifact_prefix="artifacts/$t/" "${limit[@]}" \
        -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
    [[ -n $runs ]] && rm -rf "$corpus"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    execs="${execs:-0}"
    total=$((total + execs))
    if ((status != 0)); then
        failed+=("$t")
        echo "fuzz: $t FAILED (exit $status) after $execs execs; libFuzzer said:" >&2
        grep -E -A30 '^(==[0-9]+==|thread .* panicked|ALARM|SUMMARY|artifact_prefix|Test unit written)' \
            "$log" | head -60 >&2 || tail -40 "$log" >&2
    fi
    printf 'fuzz: %-18s %12d execs%s\n' "$t" "$execs" \
        "$( ((status == 0)) || echo '  FAILED')"
done
printf 'fuzz: %-18s %12d execs\n' total "$total"
if ((${#failed[@]})); then
    echo "fuzz: failing targets: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
    exit 1
fi
