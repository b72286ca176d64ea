namespace Hybrid.Kernel

open System

/// Which implementation runs MathNet's double-precision linear algebra.
type BackendKind =
    /// Intel MKL through libmkl_rt (Debian non-free package libmkl-rt).
    | Mkl = 0
    /// OpenBLAS through libopenblas.so.0 (Debian package libopenblas0).
    | OpenBlas = 1
    /// MathNet.Numerics' own managed code; always available.
    | Managed = 2

/// A description of a linear-algebra backend: what it is, where it was loaded from,
/// which version, and how many threads it uses.
[<Sealed>]
type Backend(kind: BackendKind, library: string, version: string, threads: int) =
    /// Mkl, OpenBlas or Managed.
    member _.Kind = kind
    /// The absolute path of the shared library file the backend was loaded from (e.g.
    /// "/usr/lib/x86_64-linux-gnu/libmkl_rt.so"); for Managed, "MathNet.Numerics".
    member _.Library = library
    /// The library's own version string: MKL's MKL_Get_Version_String, OpenBLAS's
    /// openblas_get_config, MathNet's assembly version for Managed.
    member _.Version = version
    /// Threads the library will use for one call (MKL_Get_Max_Threads, openblas_get_num_threads,
    /// MathNet's Control.MaxDegreeOfParallelism).
    member _.Threads = threads

    /// A short name: "MKL", "OpenBLAS" or "Managed".
    member _.Name =
        match kind with
        | BackendKind.Mkl -> "MKL"
        | BackendKind.OpenBlas -> "OpenBLAS"
        | _ -> "Managed"

    /// The version number alone, taken from the version string ("2020.0.4", "0.3.21", "5.0.0").
    member this.ShortVersion =
        let m = Text.RegularExpressions.Regex.Match(version, @"\d+\.\d+(\.\d+)?")
        if m.Success then m.Value else version

    /// For example "MKL 2020.0.4 (/usr/lib/x86_64-linux-gnu/libmkl_rt.so, 2 threads)".
    override this.ToString() =
        sprintf "%s %s (%s, %d thread%s)" this.Name this.ShortVersion library threads (if threads = 1 then "" else "s")
