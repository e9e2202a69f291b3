#!/usr/bin/env bash
# Validate the bundled synthetic samples (sample_data/) for every payer profile and show
# what a billing clerk sees. `make demo` runs it after `make install`.
#
#   scripts/demo.sh OUT_DIR      outputs go to OUT_DIR/<profile>/, ledgers to OUT_DIR/ledgers/
#
# Each payer gets its own ledger (the samples' claim ids repeat across payers), created once
# with `cmclaims ledger init`: validate never creates one. Running the demo again is a
# re-run of the same exports: it replaces itself in the ledger.
# Exits 0 when every run worked (rejected lines are the point of the demo: --exit-zero),
# and with the worst exit code when a run failed (2 and above: usage, input, internal error).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
out=${1:-demo-out}
bin=.venv/bin
profiles=(ok-soonercare id-optum mi-dwihn az-ahcccs pa-performcare)

if [[ ! -x $bin/cmclaims ]]; then
    echo "demo: $bin/cmclaims not found; run 'make install' first" >&2
    exit 2
fi

worst=0
for profile in "${profiles[@]}"; do
    data=sample_data/$profile
    ledger=$out/ledgers/$profile.sqlite3
    echo
    echo "=== $profile: $data/export.csv ==="
    if [[ ! -e $ledger ]] && ! "$bin/cmclaims" ledger init --ledger "$ledger"; then
        echo "demo: cannot create the ledger $ledger" >&2
        worst=73
        continue
    fi
    "$bin/cmclaims" validate "$data/export.csv" --profile "$profile" --out "$out/$profile" \
        --authorizations "$data/authorizations.csv" --stays "$data/stays.csv" --staff "$data/staff.csv" \
        --enrollment "$data/enrollment.csv" --plans "$data/plans.csv" \
        --ledger "$ledger" --exit-zero
    code=$?
    if (( code >= 2 )); then
        echo "demo: cmclaims validate failed for $profile (exit $code)" >&2
        (( code > worst )) && worst=$code
    fi
    # What the compliance officer sees: the requirements over time of the year so far (exit 1: some not met).
    echo
    echo "=== $profile: cmclaims compliance (findings with member ids in $out/$profile/compliance.xlsx) ==="
    "$bin/cmclaims" compliance --profile "$profile" --from 2026-01-01 --as-of 2026-10-31 --ledger "$ledger" \
        --stays "$data/stays.csv" --staff "$data/staff.csv" --plans "$data/plans.csv" \
        --enrollment "$data/enrollment.csv" \
        --out "$out/$profile/compliance.xlsx"
    code=$?
    if (( code >= 2 )); then
        echo "demo: cmclaims compliance failed for $profile (exit $code)" >&2
        (( code > worst )) && worst=$code
    fi
done

exceptions=$out/ok-soonercare/exceptions.csv
if [[ -f $exceptions ]]; then
    echo
    echo "=== the first findings in $exceptions ==="
    # Messages hold commas, so the CSV is read with Python rather than `column -s,`.
    # Member ids and birth dates are left out of the terminal on purpose.
    "$bin/python" - "$exceptions" <<'PYTHON'
import csv
import sys

shown = ("claim_id", "rule", "disposition", "hcpcs", "modifiers", "units_billed", "units_allowed", "message")
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = [row for _, row in zip(range(10), csv.DictReader(handle))]
widths = {c: max([len(c)] + [len(r.get(c) or "") for r in rows]) for c in shown[:-1]}
print("  ".join(c.ljust(widths[c]) for c in shown[:-1]) + "  message")
for row in rows:
    message = row.get("message") or ""
    print("  ".join((row.get(c) or "").ljust(widths[c]) for c in shown[:-1]) + "  " + message[:110])
PYTHON
fi
exit "$worst"
