namespace Hybrid.Kernel

#nowarn "9"

open System
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

/// Finding and loading libmkl_rt / libopenblas at run time (System.Runtime.InteropServices.NativeLibrary).
module internal NativeLoader =

    /// File names tried, in order, for each native backend.
    let candidates (kind: BackendKind) =
        match kind with
        | BackendKind.Mkl -> [ "libmkl_rt.so"; "libmkl_rt.so.2"; "libmkl_rt.so.1" ]
        | BackendKind.OpenBlas -> [ "libopenblas.so.0"; "libopenblas.so" ]
        | _ -> []

    let private tryLoadFirst (names: string list) =
        names |> List.tryPick (fun name ->
            match NativeLibrary.TryLoad name with
            | true, handle -> Some(name, handle)
            | _ -> None)

    /// dlopen(name, RTLD_NOW | RTLD_GLOBAL): an OpenMP runtime must be global so that MKL's
    /// threading layer (itself dlopen'ed by libmkl_rt) can resolve omp_* against it.
    let private dlopenGlobal (name: string) =
        let libc =
            [ "libc.so.6"; "libdl.so.2" ]
            |> List.tryPick (fun n ->
                match NativeLibrary.TryLoad n with
                | true, h ->
                    match NativeLibrary.TryGetExport(h, "dlopen") with
                    | true, f -> Some f
                    | _ -> None
                | _ -> None)
        match libc with
        | Some f -> Marshal.GetDelegateForFunctionPointer<Dlopen>(f).Invoke(name, 0x102) <> 0n
        | None -> false

    /// MKL's threading layer, chosen before the first MKL call: MKL_THREADING_LAYER when set
    /// (INTEL, GNU, SEQUENTIAL, TBB), else INTEL when libiomp5 loads, else GNU when libgomp
    /// loads (Debian's libmkl-rt without recommends has no libiomp5: the default INTEL layer
    /// would kill the process at the first threaded call), else SEQUENTIAL.
    let private mklThreadingLayer () =
        let intel () = dlopenGlobal "libiomp5.so"
        let gnu () = dlopenGlobal "libgomp.so.1"
        match (Environment.GetEnvironmentVariable "MKL_THREADING_LAYER" |> Option.ofObj |> Option.map (fun s -> s.Trim().ToUpperInvariant())) with
        | Some "SEQUENTIAL" -> 1
        | Some "GNU" when gnu () -> 3
        | Some "TBB" when dlopenGlobal "libtbb.so.12" || dlopenGlobal "libtbb.so.2" -> 4
        | Some "INTEL" when intel () -> 0
        | _ -> if intel () then 0 elif gnu () then 3 else 1

    let private export<'D when 'D :> Delegate> (handle: nativeint) (missing: ResizeArray<string>) (name: string) : 'D =
        match NativeLibrary.TryGetExport(handle, name) with
        | true, f -> Marshal.GetDelegateForFunctionPointer<'D> f
        | _ ->
            missing.Add name
            Unchecked.defaultof<'D>

    let private bind (kind: BackendKind) (library: string) (handle: nativeint) version threads freeBuffers =
        let missing = ResizeArray<string>()
        let e name = export handle missing name
        let blas =
            { Kind = kind; Library = library
              Dgemm = e "cblas_dgemm"; Dgemv = e "cblas_dgemv"; Daxpy = e "cblas_daxpy"
              Ddot = e "cblas_ddot"; Dscal = e "cblas_dscal"
              Dlange = e "dlange_"; Dpotrf = e "dpotrf_"; Dpotrs = e "dpotrs_"
              Dgetrf = e "dgetrf_"; Dgetrs = e "dgetrs_"; Dgetri = e "dgetri_"
              Dgeqrf = e "dgeqrf_"; Dorgqr = e "dorgqr_"; Dormqr = e "dormqr_"; Dtrtrs = e "dtrtrs_"
              Dgesdd = e "dgesdd_"; Dsyevd = e "dsyevd_"; Dgeev = e "dgeev_"
              Version = version; Threads = threads; FreeBuffers = freeBuffers }
        if missing.Count = 0 then Ok blas
        else Error(sprintf "%s was loaded but lacks %s" library (String.Join(", ", missing)))

    let private loadMkl () =
        match tryLoadFirst (candidates BackendKind.Mkl) with
        | None -> Error "libmkl_rt.so could not be loaded (tried libmkl_rt.so, libmkl_rt.so.2, libmkl_rt.so.1)"
        | Some(name, h) ->
            let missing = ResizeArray<string>()
            let setInterface: IntOfInt = export h missing "MKL_Set_Interface_Layer"
            let setThreading: IntOfInt = export h missing "MKL_Set_Threading_Layer"
            let versionString: VersionString = export h missing "MKL_Get_Version_String"
            let maxThreads: IntOfUnit = export h missing "MKL_Get_Max_Threads"
            let freeBuffers: UnitOfUnit = export h missing "MKL_Free_Buffers"
            if missing.Count > 0 then
                Error(sprintf "%s was loaded but lacks %s" name (String.Join(", ", missing)))
            else
                // Both must come before any other MKL call: 32-bit integers (LP64) and a threading
                // layer whose OpenMP runtime is actually present.
                setInterface.Invoke 0 |> ignore
                setThreading.Invoke(mklThreadingLayer ()) |> ignore
                let buffer = Array.zeroCreate<byte> 256
                use p = fixed buffer
                versionString.Invoke(p, buffer.Length)
                let version = Text.Encoding.ASCII.GetString(buffer).TrimEnd('\000', ' ')
                bind BackendKind.Mkl name h version (fun () -> maxThreads.Invoke()) (fun () -> freeBuffers.Invoke())

    let private loadOpenBlas () =
        match tryLoadFirst (candidates BackendKind.OpenBlas) with
        | None -> Error "libopenblas.so.0 could not be loaded (tried libopenblas.so.0, libopenblas.so)"
        | Some(name, h) ->
            let missing = ResizeArray<string>()
            let config: StringOfUnit = export h missing "openblas_get_config"
            let threads: IntOfUnit = export h missing "openblas_get_num_threads"
            if missing.Count > 0 then
                Error(sprintf "%s was loaded but lacks %s" name (String.Join(", ", missing)))
            else
                let version = Marshal.PtrToStringAnsi(config.Invoke()) |> Option.ofObj |> Option.defaultValue "OpenBLAS"
                bind BackendKind.OpenBlas name h version (fun () -> threads.Invoke()) ignore

    let private mkl = lazy (loadMkl ())
    let private openBlas = lazy (loadOpenBlas ())

    /// The loaded library for a native kind (loaded once per process, thread-safe), or why it is unavailable.
    let load (kind: BackendKind) : Result<NativeBlas, string> =
        match kind with
        | BackendKind.Mkl -> mkl.Force()
        | BackendKind.OpenBlas -> openBlas.Force()
        | _ -> Error "the managed backend has no native library"
