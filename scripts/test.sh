#!/usr/bin/env bash
# The test command: installs what is missing, prepares reference fixtures, runs every test
# against an optimised build (numeric Swift in debug is 10-100x slower).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/bootstrap_deepsparse.sh   # DeepSparse 1.8 in .venv-deepsparse (timing backend test)
if [ -x scripts/prepare_fixtures.sh ]; then scripts/prepare_fixtures.sh; fi
export SPDY_PYTHON="$root/.venv/bin/python"
if [ "$#" -gt 0 ]; then exec swift test -c release -Xswiftc -enable-testing "$@"; fi
# The pipeline tests prune to measured speed targets: they run alone after the rest, so that no
# other suite's threads share the two cores while they time layers (under contention a timing
# table can put a 1.5x target out of reach).
status=0
swift test -c release -Xswiftc -enable-testing --skip PipelineCLITests || status=$?
swift test -c release -Xswiftc -enable-testing --skip-build --filter PipelineCLITests || status=$?
exit "$status"
