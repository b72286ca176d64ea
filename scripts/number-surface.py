#!/usr/bin/env python3
"""Copy the generic-math surface of Dual (Kernel.FSharp/Numbers/Dual.fs, from the line
'// BEGIN generic-math surface' to the end of the file) into the other number types,
replacing the type name. Each number type defines its own primitives above the marker
(Const, Apply1, Apply2, Apply2L, Apply2R, IsConstant, Primal, ToString); everything below it is shared text.

    scripts/number-surface.py            # rewrite the targets
    scripts/number-surface.py --check    # exit 1 if a target is out of date
"""
import re, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent / "Kernel.FSharp" / "Numbers"
marker = "    // BEGIN generic-math surface."
targets = {"HyperDual.fs": "HyperDual", "DualN.fs": "DualN<'P>", "../Traces/Real.fs": "Real"}

def surface(text):
    i = text.index(marker)
    return text[:i], text[i:]

_, src = surface((root / "Dual.fs").read_text())
stale = []
for name, typ in targets.items():
    path = root / name
    head, old = surface(path.read_text())
    new = re.sub(r"\bDual\b(?!N)", lambda m: typ, src)
    if new != old:
        stale.append(name)
        if "--check" not in sys.argv:
            path.write_text(head + new)
if "--check" in sys.argv and stale:
    print("out of date:", ", ".join(stale)); sys.exit(1)
print("surface:", ", ".join(stale) if stale else "all up to date")
