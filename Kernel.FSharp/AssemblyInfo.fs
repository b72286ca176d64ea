namespace Hybrid.Kernel

open System.Runtime.CompilerServices

// The kernel's mechanisms (traces, stores, tape sweeps, primitives' ops, the transforms' building
// blocks in Ad) are internal: users see Real, Vec, Mat, Dual, HyperDual, Linalg, Memory and the
// exceptions. The API and the F# surface compose the mechanisms; tests and benchmarks check them.
[<assembly: InternalsVisibleTo("Hybrid")>]
[<assembly: InternalsVisibleTo("Hybrid.FSharp")>]
[<assembly: InternalsVisibleTo("Kernel.Tests")>]
[<assembly: InternalsVisibleTo("Api.Tests")>]
[<assembly: InternalsVisibleTo("FSharp.Tests")>]
[<assembly: InternalsVisibleTo("Bench")>]
do ()
