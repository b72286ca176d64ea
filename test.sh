#!/usr/bin/env bash
# Runs every test suite (Expecto kernel tests, xunit API tests) and ends with one line:
#   N passed, N failed, N skipped
# Exit status is non-zero if any suite fails or does not run.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

strip() { sed -r 's/\x1B\[[0-9;?]*[A-Za-z]//g'; }
passed=0; failed=0; skipped=0; status=0

echo "== build"
if ! dotnet build Hybrid.sln -c Release -v q -nologo 2>&1 | tail -n 3; then status=1; fi

echo "== kernel tests (Expecto)"
out=$(dotnet run --project tests/Kernel.Tests -c Release --no-build -- --no-spinner --colours 0 2>&1 | strip)
rc=$?
echo "$out" | grep -E "EXPECTO|ERR|FAIL|skipped|ignored" | grep -vE "^\s*$" | tail -n 40
line=$(echo "$out" | grep -E "tests run in" | tail -n 1)
if [ -z "$line" ]; then echo "kernel tests: no summary (rc=$rc)"; status=1; failed=$((failed+1)); else
  p=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p'); i=$(echo "$line" | sed -nE 's/.* ([0-9]+) ignored.*/\1/p')
  f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p'); e=$(echo "$line" | sed -nE 's/.* ([0-9]+) errored.*/\1/p')
  passed=$((passed+p)); skipped=$((skipped+i)); failed=$((failed+f+e))
fi
[ $rc -eq 0 ] || status=1

echo "== API tests (xunit)"
out=$(dotnet test tests/Api.Tests -c Release --no-build -nologo 2>&1 | strip)
rc=$?
echo "$out" | grep -E "\[FAIL\]|Failed |Skipped |Passed!|Failed!|error" | head -n 60
line=$(echo "$out" | grep -E "(Passed|Failed)!.*Total:" | tail -n 1)
if [ -z "$line" ]; then echo "API tests: no summary (rc=$rc)"; status=1; failed=$((failed+1)); else
  p=$(echo "$line" | sed -nE 's/.*Passed: *([0-9]+).*/\1/p'); f=$(echo "$line" | sed -nE 's/.*Failed: *([0-9]+).*/\1/p')
  s=$(echo "$line" | sed -nE 's/.*Skipped: *([0-9]+).*/\1/p')
  passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
fi
[ $rc -eq 0 ] || status=1

[ $failed -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
