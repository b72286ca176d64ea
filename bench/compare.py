#!/usr/bin/env python3
"""Before/after tables from two BenchmarkDotNet result folders (the same suites run back to back by two
builds): per case, each side's median and its ratio to the suite's baseline, and after ÷ before.
    python3 bench/compare.py BEFORE/results AFTER/results"""
import csv, glob, os, re, sys

def load(root):
    out = {}
    for path in glob.glob(os.path.join(root, "*-report.csv")):
        suite = os.path.basename(path).replace("-report.csv", "").replace("Hybrid.Bench.", "")
        for r in csv.DictReader(open(path, encoding="utf-8")):
            key = (suite, r["Method"].strip("'"), r.get("N", ""), r.get("Job", ""))
            out[key] = r
    return out

def ns(text):
    m = re.match(r"([\d,.]+)\s*(ns|μs|us|ms|s)", text.replace("\u00a0", " "))
    if not m: return None
    v = float(m.group(1).replace(",", ""))
    return v * {"ns": 1, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}[m.group(2)]

before, after = load(sys.argv[1]), load(sys.argv[2])
suites = sorted({k[0] for k in after})
for suite in suites:
    keys = [k for k in after if k[0] == suite and k in before]
    if not keys: continue
    print(f"\n### {suite}\n")
    print("| case | N | before: median (ratio) | after: median (ratio) | after ÷ before |")
    print("|---|---:|---:|---:|---:|")
    for k in sorted(keys, key=lambda k: (int(k[2]) if k[2].isdigit() else 0, k[1])):
        b, a = before[k], after[k]
        tb, ta = ns(b["Median"]), ns(a["Median"])
        change = f"{ta / tb:.2f}" if tb and ta else "?"
        name = k[1] + (f" [{k[3]}]" if k[3] and k[3] != "short" else "")
        print(f"| {name} | {k[2]} | {b['Median']} ({b.get('Ratio', '')}) | {a['Median']} ({a.get('Ratio', '')}) | {change} |")
