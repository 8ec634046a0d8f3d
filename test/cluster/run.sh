#!/usr/bin/env bash
# CI entry point of the Slurm integration test (.ci/run): start the private cluster, run
# test/cluster/slurm.test.ts with node's test runner, stop the cluster if this script started it.
# The exit code is the tests'. Where Slurm cannot start (not root, no packages, no network) the
# tests are reported as skipped with the reason and the exit code is 0, unless
# GROKSWEEP_SLURM_REQUIRED=1 (a machine where the cluster is known to work).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST=dist/test/cluster/slurm.test.js
# dist/ is built by `npm test`; rebuild only if a source is newer (running this file alone after an edit)
if [[ ! -f $TEST ]] || [[ -n $(find src test -name '*.ts' -newer "$TEST" -print -quit) ]]; then
  npx tsc -p tsconfig.json || exit 1
fi
ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
t0=$(ms)
started=0
err=$(mktemp)
if env=$(bash test/cluster/start.sh 2>"$err"); then
  cat "$err" >&2
  eval "$env"
  started=$GROKSWEEP_SLURM_STARTED
  echo "# slurm: cluster up in $(( $(ms) - t0 )) ms ($SLURM_CONF)"
else
  rc=$?
  cat "$err" >&2
  [[ ${GROKSWEEP_SLURM_REQUIRED:-0} == 1 ]] && {
    echo "# slurm: the cluster did not start (exit $rc) and GROKSWEEP_SLURM_REQUIRED=1" >&2
    exit 1
  }
  reason=$(grep -m1 -E '^(skip|slurm did not start): ' "$err")
  reason=${reason#skip: }
  export GROKSWEEP_SLURM_SKIP="no local Slurm cluster: ${reason:-test/cluster/start.sh exit $rc}"
  unset SLURM_CONF
fi
rm -f "$err"
node --test "$TEST"
rc=$?
[[ $started == 1 ]] && bash test/cluster/stop.sh >/dev/null 2>&1
exit $rc
