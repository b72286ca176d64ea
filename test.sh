#!/usr/bin/env bash
# Runs every test of every test project in Hybrid.sln through `dotnet test` (the Expecto suites run there as
# one xunit theory case per Expecto test, see tests/ExpectoXunit) and ends with one line:
#   N passed, N failed, N skipped
# A project is included by adding it to Hybrid.sln under tests/. Exit status is non-zero if a test fails or
# a test project reports no result.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

strip() { sed -r 's/\x1B\[[0-9;?]*[A-Za-z]//g'; }
passed=0; failed=0; skipped=0; status=0

echo "== build"
build_out=$(dotnet build Hybrid.sln -c Release -v q -nologo 2>&1); build_rc=$?
echo "$build_out" | tail -n 3
if [ $build_rc -ne 0 ]; then
  # the tests would run against the last good build's binaries: count the build as one failure and stop
  echo "$build_out" | grep -E ": error " | sort -u | head -n 40
  echo "the build failed (exit code $build_rc)"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# the test projects: every project of the solution under tests/ that is a test project (xunit, or Expecto)
expected=()
for proj in $(dotnet sln Hybrid.sln list | tr '\\' '/' | grep -E '^tests/.*\.(cs|fs)proj$'); do
  props=$(dotnet msbuild "$proj" -nologo -p:Configuration=Release -getProperty:IsTestProject -getProperty:TargetPath 2>/dev/null)
  if echo "$props" | grep -q '"IsTestProject": "true"'; then
    expected+=("$(basename "$(echo "$props" | sed -nE 's/.*"TargetPath": "([^"]*)".*/\1/p')")")
  else
    echo "note: $proj is not a test project (no xunit or Expecto reference); it is not run"
  fi
done
echo "== tests: dotnet test Hybrid.sln (${expected[*]})"
out=$(dotnet test Hybrid.sln -c Release --no-build -nologo 2>&1 | strip)
rc=$?
echo "$out" | grep -E "^\s*(Failed|Skipped) |Error Message|^\s{2,}[A-Za-z].*(Exception|expected|Expected|Actual)|(Passed|Failed|Skipped)! " | head -n 120
for dll in "${expected[@]}"; do
  line=$(echo "$out" | grep -E "(Passed|Failed|Skipped)! .*Total:.* - $dll " | tail -n 1)
  if [ -z "$line" ]; then echo "$dll: no test summary (rc=$rc)"; failed=$((failed+1)); continue; fi
  p=$(echo "$line" | sed -nE 's/.*Passed: *([0-9]+).*/\1/p'); f=$(echo "$line" | sed -nE 's/.*Failed: *([0-9]+).*/\1/p')
  s=$(echo "$line" | sed -nE 's/.*Skipped: *([0-9]+).*/\1/p')
  passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
done
[ $rc -eq 0 ] || status=1

[ $failed -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
