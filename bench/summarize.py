#!/usr/bin/env python3
"""Compact tables (method, size, median, ratio to the suite's baseline, allocation) from
BenchmarkDotNet's CSV reports: python3 bench/summarize.py [BenchmarkDotNet.Artifacts/results]."""
import csv, glob, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "BenchmarkDotNet.Artifacts", "results")
for path in sorted(glob.glob(os.path.join(root, "*-report.csv"))):
    suite = os.path.basename(path).replace("-report.csv", "").replace("Hybrid.Bench.", "")
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    if not rows:
        continue
    print(f"\n### {suite}\n")
    has_n = "N" in rows[0]
    has_job = len({r.get("Job", "") for r in rows}) > 1
    head = ["case"] + (["job"] if has_job else []) + (["N"] if has_n else []) + ["median", "ratio", "allocated"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for r in rows:
        cells = [r["Method"].strip("'")] + ([r.get("Job", "")] if has_job else []) + ([r["N"]] if has_n else [])
        cells += [r.get("Median", "NA"), r.get("Ratio", ""), r.get("Allocated", "")]
        print("| " + " | ".join(cells) + " |")
