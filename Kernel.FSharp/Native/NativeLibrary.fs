namespace Hybrid.Kernel

#nowarn "9"

open System
open System.Diagnostics
open System.IO
open System.Runtime.InteropServices
open Microsoft.FSharp.NativeInterop

/// Signatures of the native entry points. CBLAS takes scalars by value and the layout
/// first (102 = column-major); the Fortran LAPACK symbols take every argument by pointer,
/// followed by one hidden length (size_t) per CHARACTER argument, as gfortran passes them.
module internal NativeSignatures =
    type D = nativeptr<float>
    type I = nativeptr<int>
    type C = nativeptr<byte>
    type L = unativeint

    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgemm = delegate of int * int * int * int * int * int * float * D * int * D * int * float * D * int -> unit
    /// cblas_dsyrk(layout, uplo, trans, n, k, alpha, A, lda, beta, C, ldc): C ← α·op(A)ᵀ·op(A) + β·C on one triangle.
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dsyrk = delegate of int * int * int * int * int * float * D * int * float * D * int -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgemv = delegate of int * int * int * int * float * D * int * D * int * float * D * int -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Daxpy = delegate of int * float * D * int * D * int -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Ddot = delegate of int * D * int * D * int -> float
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dscal = delegate of int * float * D * int -> unit

    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dlange = delegate of C * I * I * D * I * D * L -> float
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dpotrf = delegate of C * I * D * I * I * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dpotrs = delegate of C * I * I * D * I * D * I * I * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgetrf = delegate of I * I * D * I * I * I -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgetrs = delegate of C * I * I * D * I * I * D * I * I * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgetri = delegate of I * D * I * I * D * I * I -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgeqrf = delegate of I * I * D * I * D * D * I * I -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dorgqr = delegate of I * I * I * D * I * D * D * I * I -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dormqr = delegate of C * C * I * I * I * D * I * D * D * I * D * I * I * L * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dtrtrs = delegate of C * C * C * I * I * D * I * D * I * I * L * L * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgesdd = delegate of C * I * I * D * I * D * D * I * D * I * D * I * I * I * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dsyevd = delegate of C * C * I * D * I * D * D * I * I * I * I * L * L -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dgeev = delegate of C * C * I * D * I * D * D * D * I * D * I * D * I * I * L * L -> unit

    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type IntOfUnit = delegate of unit -> int
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type IntOfInt = delegate of int -> int
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type UnitOfUnit = delegate of unit -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type VersionString = delegate of nativeptr<byte> * int -> unit
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type StringOfUnit = delegate of unit -> nativeint
    [<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
    type Dlopen = delegate of string * int -> nativeint

open NativeSignatures

/// One loaded BLAS/LAPACK library: its entry points, looked up once at load and cached.
[<NoEquality; NoComparison>]
type internal NativeBlas =
    { Kind: BackendKind
      Library: string
      Dgemm: Dgemm
      Dsyrk: Dsyrk
      Dgemv: Dgemv
      Daxpy: Daxpy
      Ddot: Ddot
      Dscal: Dscal
      Dlange: Dlange
      Dpotrf: Dpotrf
      Dpotrs: Dpotrs
      Dgetrf: Dgetrf
      Dgetrs: Dgetrs
      Dgetri: Dgetri
      Dgeqrf: Dgeqrf
      Dorgqr: Dorgqr
      Dormqr: Dormqr
      Dtrtrs: Dtrtrs
      Dgesdd: Dgesdd
      Dsyevd: Dsyevd
      Dgeev: Dgeev
      Version: string
      Threads: unit -> int
      FreeBuffers: unit -> unit }

    member this.Backend = Backend(this.Kind, this.Library, this.Version, this.Threads())

/// Where the native libraries are looked for. Never by bare name: dlopen("libmkl_rt.so") would
/// search LD_LIBRARY_PATH first (an empty entry there is the working directory) and run the
/// constructor of whatever file of that name it finds. A file is loaded by absolute path: the one
/// HYBRID_BLAS_PATH names, else one listed in ldconfig's cache (`ldconfig -p`) or present in the
/// system's library directories (the distribution's multiarch directory, /usr/lib64, /usr/lib).
module internal NativeSearch =

    /// The environment variable naming the one native library file to use (an absolute or
    /// relative path), instead of searching the system's directories.
    let pathVariable = "HYBRID_BLAS_PATH"

    /// The file HYBRID_BLAS_PATH names, as a full path, or None when it is unset or empty.
    let explicitPath () =
        match Environment.GetEnvironmentVariable pathVariable with
        | null -> None
        | s when String.IsNullOrWhiteSpace s -> None
        | s -> Some(Path.GetFullPath(s.Trim()))

    /// The Debian/Ubuntu multiarch triplet and ldconfig's architecture tag of this process.
    let private arch () =
        match RuntimeInformation.ProcessArchitecture with
        | Architecture.X64 -> Some "x86_64-linux-gnu", Some "x86-64"
        | Architecture.Arm64 -> Some "aarch64-linux-gnu", Some "AArch64"
        | _ -> None, None

    /// The system's library directories, in the order they are searched after ldconfig's cache.
    let systemDirectories () =
        [ match fst (arch ()) with
          | Some t -> yield "/usr/lib/" + t; yield "/lib/" + t
          | None -> ()
          yield! [ "/usr/lib64"; "/lib64"; "/usr/lib"; "/lib" ] ]

    /// ldconfig's cache as (file name, absolute path) pairs for this process's architecture
    /// (`ldconfig -p`, run once; empty when ldconfig is absent or fails).
    let private ldconfigCache =
        lazy (
            let exe = [ "/sbin/ldconfig"; "/usr/sbin/ldconfig"; "/usr/bin/ldconfig"; "/bin/ldconfig" ] |> List.tryFind File.Exists
            match exe with
            | None -> []
            | Some exe ->
                try
                    let psi = ProcessStartInfo(exe, "-p", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
                    use p = Process.Start psi
                    let stdout = p.StandardOutput.ReadToEndAsync()
                    p.StandardError.ReadToEnd() |> ignore
                    if not (p.WaitForExit 10000) then (try p.Kill() with _ -> ()); []
                    else
                        let tag = snd (arch ())
                        [ for line in stdout.Result.Split('\n') do
                            let m = Text.RegularExpressions.Regex.Match(line, @"^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(/.+?)\s*$")
                            if m.Success && (tag.IsNone || m.Groups.[2].Value.Contains tag.Value) then
                                yield m.Groups.[1].Value, m.Groups.[3].Value ]
                with _ -> [])

    /// The path with every symbolic link resolved (for telling two names of one file apart).
    let realPath (path: string) =
        let rec resolve (depth: int) (p: string) =
            if depth > 40 then p
            else
                let parts = p.Split('/', StringSplitOptions.RemoveEmptyEntries)
                let mutable current = "/"
                let mutable restarted = None
                let mutable i = 0
                while restarted.IsNone && i < parts.Length do
                    let next = Path.Combine(current, parts.[i])
                    let info : FileSystemInfo = if Directory.Exists next then DirectoryInfo next else FileInfo next
                    match (try info.LinkTarget with _ -> null) with
                    | null -> current <- next
                    | target ->
                        let rest = String.Join("/", parts.[i + 1 ..])
                        restarted <- Some(resolve (depth + 1) (Path.GetFullPath(Path.Combine(Path.Combine(current, target), rest))))
                    i <- i + 1
                defaultArg restarted current
        try resolve 0 (Path.GetFullPath path) with _ -> path

    /// Existing files with one of these names: ldconfig's entries first, then the system
    /// directories; each file once (two paths to one file count as one).
    let find (names: string list) : string list =
        let cache = ldconfigCache.Force()
        let listed = [ for name in names do for n, path in cache do if n = name then yield path ]
        let inDirs = [ for name in names do for dir in systemDirectories () -> Path.Combine(dir, name) ]
        (listed @ inDirs)
        |> List.filter File.Exists
        |> List.distinctBy realPath

    /// Where `find` looks, for messages.
    let describeSearch () =
        sprintf "ldconfig's cache (ldconfig -p) and %s" (String.Join(", ", systemDirectories ()))

    /// dlopen's message for a file it refused (the last line of .NET's DllNotFoundException text).
    let private linkerMessage (e: exn) =
        let lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
        if lines.Length = 0 then e.GetType().Name else lines.[lines.Length - 1]

    /// Loads one file by absolute path, or says why not (missing file, or the dynamic linker's
    /// reason: not an ELF object, wrong ELF class, a missing dependency or symbol version).
    let openFile (path: string) : Result<nativeint, string> =
        if not (File.Exists path) then Error(sprintf "%s: no such file" path)
        else
            try Ok(NativeLibrary.Load path)
            with e -> Error(sprintf "%s: the dynamic linker refused it (%s)" path (linkerMessage e))

/// Why a native backend could not be loaded: every file tried and why it was rejected.
/// NotFound: no candidate file exists (installing the library is the fix).
[<NoEquality; NoComparison>]
type internal LoadFailure = { Reason: string; NotFound: bool }

/// Loading libmkl_rt / libopenblas by absolute path (see NativeSearch), checking each file's entry
/// points, and the MKL set-up that must precede its first call.
module internal NativeLoader =

    /// File names looked for, in order, for each native backend.
    let names (kind: BackendKind) =
        match kind with
        | BackendKind.Mkl -> [ "libmkl_rt.so"; "libmkl_rt.so.2"; "libmkl_rt.so.1" ]
        | BackendKind.OpenBlas -> [ "libopenblas.so.0"; "libopenblas.so" ]
        | _ -> []

    let private libraryName (kind: BackendKind) = if kind = BackendKind.Mkl then "Intel MKL" else "OpenBLAS"

    /// dlopen(path, RTLD_NOW | RTLD_GLOBAL): an OpenMP runtime must be global so that MKL's
    /// threading layer (itself dlopen'ed by libmkl_rt) can resolve omp_* against it.
    let private dlopenGlobal (path: string) =
        let dlopen =
            match NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "dlopen") with
            | true, f -> Some f
            | _ ->
                // glibc's libc is already loaded, so this name matches it without a search
                match NativeLibrary.TryLoad "libc.so.6" with
                | true, h ->
                    match NativeLibrary.TryGetExport(h, "dlopen") with
                    | true, f -> Some f
                    | _ -> None
                | _ -> None
        match dlopen with
        | Some f -> Marshal.GetDelegateForFunctionPointer<Dlopen>(f).Invoke(path, 0x102) <> 0n
        | None -> false

    /// A runtime library by absolute path: beside `near` (the MKL file in use) first, then in
    /// the system's directories; loaded globally. False when none loads.
    let private loadRuntime (near: string) (names: string list) =
        let beside = [ for n in names -> Path.Combine(Path.GetDirectoryName near, n) ] |> List.filter File.Exists
        (beside @ NativeSearch.find names) |> List.exists dlopenGlobal

    /// MKL's threading layer, chosen before the first MKL call: MKL_THREADING_LAYER when set
    /// (INTEL, GNU, SEQUENTIAL, TBB), else INTEL when libiomp5 loads, else GNU when libgomp
    /// loads (Debian's libmkl-rt without recommends has no libiomp5: the default INTEL layer
    /// would kill the process at the first threaded call), else SEQUENTIAL.
    let private mklThreadingLayer (library: string) =
        let intel () = loadRuntime library [ "libiomp5.so" ]
        let gnu () = loadRuntime library [ "libgomp.so.1" ]
        match (Environment.GetEnvironmentVariable "MKL_THREADING_LAYER" |> Option.ofObj |> Option.map (fun s -> s.Trim().ToUpperInvariant())) with
        | Some "SEQUENTIAL" -> 1
        | Some "GNU" when gnu () -> 3
        | Some "TBB" when loadRuntime library [ "libtbb.so.12"; "libtbb.so.2" ] -> 4
        | Some "INTEL" when intel () -> 0
        | _ -> if intel () then 0 elif gnu () then 3 else 1

    let private export<'D when 'D :> Delegate> (handle: nativeint) (missing: ResizeArray<string>) (name: string) : 'D =
        match NativeLibrary.TryGetExport(handle, name) with
        | true, f -> Marshal.GetDelegateForFunctionPointer<'D> f
        | _ ->
            missing.Add name
            Unchecked.defaultof<'D>

    let private lacks (library: string) (what: string) (missing: ResizeArray<string>) =
        sprintf "%s: %s, it lacks %s" library what (String.Join(", ", missing))

    let private bind (kind: BackendKind) (library: string) (handle: nativeint) version threads freeBuffers =
        let missing = ResizeArray<string>()
        let e name = export handle missing name
        let blas =
            { Kind = kind; Library = library
              Dgemm = e "cblas_dgemm"; Dsyrk = e "cblas_dsyrk"; Dgemv = e "cblas_dgemv"; Daxpy = e "cblas_daxpy"
              Ddot = e "cblas_ddot"; Dscal = e "cblas_dscal"
              Dlange = e "dlange_"; Dpotrf = e "dpotrf_"; Dpotrs = e "dpotrs_"
              Dgetrf = e "dgetrf_"; Dgetrs = e "dgetrs_"; Dgetri = e "dgetri_"
              Dgeqrf = e "dgeqrf_"; Dorgqr = e "dorgqr_"; Dormqr = e "dormqr_"; Dtrtrs = e "dtrtrs_"
              Dgesdd = e "dgesdd_"; Dsyevd = e "dsyevd_"; Dgeev = e "dgeev_"
              Version = version; Threads = threads; FreeBuffers = freeBuffers }
        if missing.Count = 0 then Ok blas
        else Error(lacks library "not a complete CBLAS/LAPACK" missing)

    /// One file as Intel MKL: its MKL service functions, LP64 integers, a threading layer whose
    /// OpenMP runtime is present, then every CBLAS/LAPACK entry point.
    let private tryMkl (path: string) (h: nativeint) =
        let missing = ResizeArray<string>()
        let setInterface: IntOfInt = export h missing "MKL_Set_Interface_Layer"
        let setThreading: IntOfInt = export h missing "MKL_Set_Threading_Layer"
        let versionString: VersionString = export h missing "MKL_Get_Version_String"
        let maxThreads: IntOfUnit = export h missing "MKL_Get_Max_Threads"
        let freeBuffers: UnitOfUnit = export h missing "MKL_Free_Buffers"
        if missing.Count > 0 then Error(lacks path "not Intel MKL's libmkl_rt" missing)
        else
            // Both must come before any other MKL call: 32-bit integers (LP64) and a threading
            // layer whose OpenMP runtime is actually present.
            // the current layer comes back: 0 (LP64) or 2 (LP64 with GNU conventions); bit 0 is ILP64, −1 failure
            match setInterface.Invoke 0 with
            | layer when layer >= 0 && layer &&& 1 = 0 ->
                setThreading.Invoke(mklThreadingLayer path) |> ignore
                let buffer = Array.zeroCreate<byte> 256
                use p = fixed buffer
                versionString.Invoke(p, buffer.Length)
                let version = Text.Encoding.ASCII.GetString(buffer).TrimEnd('\000', ' ')
                bind BackendKind.Mkl path h version (fun () -> maxThreads.Invoke()) (fun () -> freeBuffers.Invoke())
            | layer ->
                Error(sprintf "%s: MKL keeps interface layer %d (ILP64, 64-bit integers) although Hybrid passes 32-bit integers (LP64, layer 0)" path layer)

    /// One file as OpenBLAS: its service functions, then every CBLAS/LAPACK entry point.
    let private tryOpenBlas (path: string) (h: nativeint) =
        let missing = ResizeArray<string>()
        let config: StringOfUnit = export h missing "openblas_get_config"
        let threads: IntOfUnit = export h missing "openblas_get_num_threads"
        if missing.Count > 0 then Error(lacks path "not OpenBLAS" missing)
        else
            let version = Marshal.PtrToStringAnsi(config.Invoke()) |> Option.ofObj |> Option.defaultValue "OpenBLAS"
            bind BackendKind.OpenBlas path h version (fun () -> threads.Invoke()) ignore

    /// One file as the given backend, or why it was rejected (the file is unloaded again then).
    let tryFile (kind: BackendKind) (path: string) : Result<NativeBlas, string> =
        match NativeSearch.openFile path with
        | Error reason -> Error reason
        | Ok h ->
            let result = if kind = BackendKind.Mkl then tryMkl path h else tryOpenBlas path h
            if Result.isError result then NativeLibrary.Free h
            result

    let private search (kind: BackendKind) : Result<NativeBlas, LoadFailure> =
        match NativeSearch.explicitPath () with
        | Some path ->
            tryFile kind path
            |> Result.mapError (fun reason -> { Reason = sprintf "%s (the file %s names)" reason NativeSearch.pathVariable; NotFound = false })
        | None when not (OperatingSystem.IsLinux()) ->
            Error { Reason = sprintf "%s is searched for only on Linux; set %s to the library file" (libraryName kind) NativeSearch.pathVariable
                    NotFound = true }
        | None ->
            match NativeSearch.find (names kind) with
            | [] ->
                Error { Reason = sprintf "%s is not installed: no %s in %s" (libraryName kind) (String.Join(" or ", names kind)) (NativeSearch.describeSearch ())
                        NotFound = true }
            | files ->
                let rec attempt (rejected: string list) files =
                    match files with
                    | [] ->
                        Error { Reason = sprintf "%s was found but no file could be used: %s" (libraryName kind) (String.Join("; ", List.rev rejected))
                                NotFound = false }
                    | path :: rest ->
                        match tryFile kind path with
                        | Ok lib -> Ok lib
                        | Error reason -> attempt (reason :: rejected) rest
                attempt [] files

    let private mkl = lazy (search BackendKind.Mkl)
    let private openBlas = lazy (search BackendKind.OpenBlas)

    /// The loaded library for a native kind (loaded once per process, thread-safe), or why it is unavailable.
    let load (kind: BackendKind) : Result<NativeBlas, LoadFailure> =
        match kind with
        | BackendKind.Mkl -> mkl.Force()
        | BackendKind.OpenBlas -> openBlas.Force()
        | _ -> Error { Reason = "the managed backend has no native library"; NotFound = false }
