namespace Hybrid.Kernel

open System
open MathNet.Numerics
open MathNet.Numerics.Providers.LinearAlgebra

/// Chooses, loads and registers the process's MathNet linear-algebra provider: Intel MKL
/// (libmkl_rt), else OpenBLAS (libopenblas.so.0), else MathNet's managed code.
/// HYBRID_BLAS=mkl|openblas|managed forces one.
[<AbstractClass; Sealed>]
type Linalg private () =
    static let gate = obj ()
    static let mutable registered : ILinearAlgebraProvider option = None

    static let nativeProviders =
        dict [ for kind in [ BackendKind.Mkl; BackendKind.OpenBlas ] ->
                 kind, lazy (NativeLoader.load kind |> Result.map (fun lib -> NativeLinearAlgebraProvider lib)) ]

    static let managedBackend () =
        let version = typeof<ManagedLinearAlgebraProvider>.Assembly.GetName().Version
        Backend(BackendKind.Managed, "MathNet.Numerics", sprintf "MathNet.Numerics %d.%d.%d managed" version.Major version.Minor version.Build,
                max 1 Control.MaxDegreeOfParallelism)

    static let installHint (kind: BackendKind) =
        match kind with
        | BackendKind.Mkl ->
            "Install Intel MKL with `bash scripts/install-mkl.sh` (Debian bookworm non-free package libmkl-rt), or unset HYBRID_BLAS to use the best available backend."
        | _ ->
            "Install OpenBLAS with `sudo apt-get install libopenblas0`, or unset HYBRID_BLAS to use the best available backend."

    /// The name of the environment variable that forces a backend.
    static member EnvironmentVariable = "HYBRID_BLAS"

    /// Whether the backend can be used in this process: Managed always; Mkl/OpenBlas when the
    /// library loads and exports every entry point the provider needs (loaded once, then cached).
    static member IsAvailable(kind: BackendKind) =
        match kind with
        | BackendKind.Managed -> true
        | BackendKind.Mkl | BackendKind.OpenBlas -> (nativeProviders.[kind].Force() |> Result.isOk)
        | _ -> false

    /// Why a backend is unavailable ("" when it is available).
    static member WhyUnavailable(kind: BackendKind) =
        match kind with
        | BackendKind.Managed -> ""
        | BackendKind.Mkl | BackendKind.OpenBlas ->
            match nativeProviders.[kind].Force() with
            | Ok _ -> ""
            | Error reason -> reason
        | other -> sprintf "%A is not a backend" other

    /// The backend to use, as a pure function of the HYBRID_BLAS value (null or empty: choose the
    /// best) and of which backends are available: Mkl, then OpenBlas, then Managed.
    /// Throws InvalidOperationException when a forced backend is unavailable (with how to install
    /// it) and ArgumentException for an unknown value.
    static member Choose(requested: string, isAvailable: Func<BackendKind, bool>) : BackendKind =
        let forced kind =
            if isAvailable.Invoke kind then kind
            else
                raise (InvalidOperationException(
                    sprintf "HYBRID_BLAS=%s asks for %s, but it is not available in this process. %s"
                        (requested.Trim()) (if kind = BackendKind.Mkl then "Intel MKL (libmkl_rt.so)" else "OpenBLAS (libopenblas.so.0)") (installHint kind)))
        match (if isNull requested then "" else requested.Trim().ToLowerInvariant()) with
        | "" | "auto" | "best" ->
            if isAvailable.Invoke BackendKind.Mkl then BackendKind.Mkl
            elif isAvailable.Invoke BackendKind.OpenBlas then BackendKind.OpenBlas
            else BackendKind.Managed
        | "mkl" -> forced BackendKind.Mkl
        | "openblas" -> forced BackendKind.OpenBlas
        | "managed" -> BackendKind.Managed
        | _ ->
            raise (ArgumentException(
                sprintf "HYBRID_BLAS=%s is not a backend; use mkl, openblas or managed (or leave it unset for the best available)." requested))

    /// A provider for the backend, not registered (for comparing backends in one process).
    /// Managed gives MathNet's ManagedLinearAlgebraProvider; native kinds give one shared
    /// NativeLinearAlgebraProvider each. Throws InvalidOperationException, saying how to install
    /// the library, when a native backend is unavailable.
    static member CreateProvider(kind: BackendKind) : ILinearAlgebraProvider =
        match kind with
        | BackendKind.Managed -> ManagedLinearAlgebraProvider.Instance :> ILinearAlgebraProvider
        | BackendKind.Mkl | BackendKind.OpenBlas ->
            match nativeProviders.[kind].Force() with
            | Ok p -> p :> ILinearAlgebraProvider
            | Error reason ->
                raise (InvalidOperationException(sprintf "The %A backend is not available: %s. %s" kind reason (installHint kind)))
        | other -> invalidArg "kind" (sprintf "%A is not a backend; use Mkl, OpenBlas or Managed." other)

    /// The description of a provider: ours, or MathNet's managed one. Any other provider type is
    /// reported with Kind = Managed and its type name as Library.
    static member Describe(provider: ILinearAlgebraProvider) : Backend =
        match provider with
        | :? NativeLinearAlgebraProvider as p -> p.Backend
        | :? ManagedLinearAlgebraProvider -> managedBackend ()
        | other -> Backend(BackendKind.Managed, other.GetType().FullName, other.ToString(), max 1 Control.MaxDegreeOfParallelism)

    /// Registers the backend's provider as MathNet's LinearAlgebraControl.Provider, so every MathNet
    /// dense operation in the process runs on it. Returns its description.
    static member Use(kind: BackendKind) : Backend =
        lock gate (fun () ->
            let provider = Linalg.CreateProvider kind
            LinearAlgebraControl.Provider <- provider
            registered <- Some provider
            Linalg.Describe provider)

    /// Registers the best available backend (honouring HYBRID_BLAS) as MathNet's provider.
    /// Idempotent and thread-safe: the choice is made once; later calls return the same backend.
    static member UseBest() : Backend =
        lock gate (fun () ->
            match registered with
            | Some p when obj.ReferenceEquals(LinearAlgebraControl.Provider, p) -> Linalg.Describe p
            | _ ->
                let kind = Linalg.Choose(Environment.GetEnvironmentVariable Linalg.EnvironmentVariable, Func<_, _>(Linalg.IsAvailable))
                Linalg.Use kind)

    /// What runs MathNet's linear algebra now (LinearAlgebraControl.Provider), e.g.
    /// "MKL 2020.0.4 (libmkl_rt.so, 2 threads)". Managed until UseBest() or Use(kind) is called.
    static member Backend : Backend = Linalg.Describe LinearAlgebraControl.Provider
