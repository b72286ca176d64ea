namespace Hybrid.Kernel

open System
open MathNet.Numerics
open MathNet.Numerics.Providers.LinearAlgebra

/// Chooses, loads and registers the process's MathNet linear-algebra provider: Intel MKL
/// (libmkl_rt), else OpenBLAS (libopenblas.so.0), else MathNet's managed code. The first dense
/// operation registers the best one by itself (EnsureInitialized); HYBRID_BLAS=mkl|openblas|managed
/// forces one, and HYBRID_BLAS_PATH names the library file to load instead of searching the
/// system's library directories.
[<AbstractClass; Sealed>]
type Linalg private () =
    static let gate = obj ()
    static let mutable registered : ILinearAlgebraProvider option = None
    [<VolatileField>]
    static let mutable initialized = false

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
            "To install Intel MKL on Debian, add the non-free component to apt's sources (Components: main non-free in /etc/apt/sources.list.d/debian.sources), then run `sudo apt-get update && sudo apt-get install libmkl-rt`; elsewhere install Intel oneAPI MKL and set HYBRID_BLAS_PATH to its libmkl_rt.so. Or unset HYBRID_BLAS to use the best available backend."
        | _ ->
            "To install OpenBLAS on Debian or Ubuntu, run `sudo apt-get install libopenblas0`. Or unset HYBRID_BLAS to use the best available backend."

    static let failure (kind: BackendKind) =
        match nativeProviders.[kind].Force() with
        | Ok _ -> None
        | Error f -> Some f

    static let nativeName (kind: BackendKind) = if kind = BackendKind.Mkl then "Intel MKL (libmkl_rt.so)" else "OpenBLAS (libopenblas.so.0)"

    /// The name of the environment variable that forces a backend.
    static member EnvironmentVariable = "HYBRID_BLAS"

    /// The name of the environment variable naming the native library file to load (libmkl_rt.so
    /// or libopenblas.so.0, by path) instead of searching ldconfig's cache and the system's
    /// library directories. LD_LIBRARY_PATH is never searched for the library.
    static member PathVariable = NativeSearch.pathVariable

    /// Whether the backend can be used in this process: Managed always; Mkl/OpenBlas when the
    /// library loads and exports every entry point the provider needs (loaded once, then cached).
    static member IsAvailable(kind: BackendKind) =
        match kind with
        | BackendKind.Managed -> true
        | BackendKind.Mkl | BackendKind.OpenBlas -> (failure kind).IsNone
        | _ -> false

    /// Why a backend is unavailable ("" when it is available): every file tried and why it was
    /// rejected (missing file, missing symbol, refused by the dynamic linker), then the fix —
    /// how to install the library when no file was found.
    static member WhyUnavailable(kind: BackendKind) =
        match kind with
        | BackendKind.Managed -> ""
        | BackendKind.Mkl | BackendKind.OpenBlas ->
            match failure kind with
            | None -> ""
            | Some f when f.NotFound -> sprintf "%s. %s" f.Reason (installHint kind)
            | Some f ->
                sprintf "%s. Point %s at a working libmkl_rt.so or libopenblas.so.0 (or unset it to search the system's library directories), or set %s=managed to use MathNet's managed code." f.Reason NativeSearch.pathVariable Linalg.EnvironmentVariable
        | other -> sprintf "%A is not a backend" other

    /// The backend to use, as a pure function of the HYBRID_BLAS value (null or empty: choose the
    /// best) and of which backends are available: Mkl, then OpenBlas, then Managed.
    /// Throws InvalidOperationException when a forced backend is unavailable (with
    /// `whyUnavailable`'s reason) and ArgumentException for an unknown value.
    static member Choose(requested: string, isAvailable: Func<BackendKind, bool>, whyUnavailable: Func<BackendKind, string>) : BackendKind =
        let forced kind =
            if isAvailable.Invoke kind then kind
            else
                raise (InvalidOperationException(
                    sprintf "HYBRID_BLAS=%s asks for %s, but it is not available in this process: %s"
                        (requested.Trim()) (nativeName kind) (whyUnavailable.Invoke kind)))
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

    /// As Choose(requested, isAvailable, whyUnavailable), the message of a forced, unavailable
    /// backend saying how to install it.
    static member Choose(requested: string, isAvailable: Func<BackendKind, bool>) : BackendKind =
        Linalg.Choose(requested, isAvailable, Func<_, _>(fun kind -> installHint kind))

    /// A provider for the backend, not registered (for comparing backends in one process).
    /// Managed gives MathNet's ManagedLinearAlgebraProvider; native kinds give one shared
    /// NativeLinearAlgebraProvider each. Throws InvalidOperationException, with the files tried
    /// and why each was rejected, when a native backend is unavailable.
    static member CreateProvider(kind: BackendKind) : ILinearAlgebraProvider =
        match kind with
        | BackendKind.Managed -> ManagedLinearAlgebraProvider.Instance :> ILinearAlgebraProvider
        | BackendKind.Mkl | BackendKind.OpenBlas ->
            match nativeProviders.[kind].Force() with
            | Ok p -> p :> ILinearAlgebraProvider
            | Error _ ->
                raise (InvalidOperationException(sprintf "The %A backend is not available: %s" kind (Linalg.WhyUnavailable kind)))
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
            initialized <- true
            Linalg.Describe provider)

    /// Registers the best available backend (honouring HYBRID_BLAS and HYBRID_BLAS_PATH) as
    /// MathNet's provider. Idempotent and thread-safe: the choice is made once; later calls return
    /// the same backend. Throws InvalidOperationException when HYBRID_BLAS forces a backend that is
    /// unavailable, or HYBRID_BLAS_PATH names a file that is neither usable MKL nor OpenBLAS.
    static member UseBest() : Backend =
        lock gate (fun () ->
            match registered with
            | Some p when obj.ReferenceEquals(LinearAlgebraControl.Provider, p) -> Linalg.Describe p
            | _ ->
                let requested = Environment.GetEnvironmentVariable Linalg.EnvironmentVariable
                let kind = Linalg.Choose(requested, Func<_, _>(Linalg.IsAvailable), Func<_, _>(Linalg.WhyUnavailable))
                match NativeSearch.explicitPath () with
                | Some path when kind = BackendKind.Managed && (isNull requested || requested.Trim().ToLowerInvariant() <> "managed") ->
                    let reasons = [ for k in [ BackendKind.Mkl; BackendKind.OpenBlas ] do match failure k with Some f -> yield f.Reason | None -> () ]
                    raise (InvalidOperationException(
                        sprintf "%s=%s names a library Hybrid cannot use as Intel MKL or OpenBLAS: %s. Point it at libmkl_rt.so or libopenblas.so.0, or unset it to search the system's library directories."
                            NativeSearch.pathVariable path (String.Join("; ", reasons))))
                | _ -> Linalg.Use kind)

    /// Registers the best backend (UseBest) unless one was chosen already — by Use, UseBest, or by
    /// setting MathNet's LinearAlgebraControl.Provider to a non-managed provider. Every dense
    /// primitive, MathNet matrix made by the kernel and Newton solver calls it first, so native
    /// linear algebra needs no set-up; HYBRID_BLAS=managed opts out. After the first call it is one
    /// volatile read. Throws as UseBest does.
    static member EnsureInitialized() : unit =
        if not initialized then
            lock gate (fun () ->
                if not initialized then
                    let chosenElsewhere =
                        registered.IsSome || not (LinearAlgebraControl.Provider :? ManagedLinearAlgebraProvider)
                    if not chosenElsewhere then Linalg.UseBest() |> ignore
                    initialized <- true)

    /// What runs MathNet's linear algebra (LinearAlgebraControl.Provider, after EnsureInitialized),
    /// e.g. "MKL 2020.0.4 (/usr/lib/x86_64-linux-gnu/libmkl_rt.so, 2 threads)": the kind, the
    /// absolute path of the library file loaded, its version and threads.
    static member Backend : Backend =
        Linalg.EnsureInitialized()
        Linalg.Describe LinearAlgebraControl.Provider
