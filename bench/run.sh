#!/usr/bin/env bash
# Runs the BenchmarkDotNet suites in Release and writes the markdown reports.
#   bench/run.sh                 every suite (~15 min on 2 cores)
#   bench/run.sh '*Rosenbrock*'  a filter (BenchmarkDotNet glob on Namespace.Class.Method)
#   bench/run.sh '*Dgemm*' --job dry   extra arguments go to BenchmarkDotNet
# Reports: bench/BenchmarkDotNet.Artifacts/results/*-report-github.md, joined into
# bench/BenchmarkDotNet.Artifacts/summary.md with the machine and its load.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
filter="${1:-*}"; shift || true
art=BenchmarkDotNet.Artifacts
load_before=$(uptime)
dotnet build Bench.csproj -c Release -v q -nologo
dotnet bin/Release/net10.0/Bench.dll --filter "$filter" --artifacts "$art" "$@"
{
  echo "# Hybrid benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), memory $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- OS: $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version)"
  echo "- load before: ${load_before##*load average: }; after: $(uptime | sed 's/.*load average: //')"
  echo "- OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"
  for f in "$art"/results/*-report-github.md; do echo; echo "## $(basename "$f" -report-github.md)"; echo; cat "$f"; done
  echo
  echo "## Compact: median, ratio to each suite's baseline, allocation"
  python3 summarize.py "$art/results"
} > "$art/summary.md"
dotnet bin/Release/net10.0/Bench.dll charts "$art/results" charts
echo "summary: bench/$art/summary.md; charts: bench/charts/*.png"
