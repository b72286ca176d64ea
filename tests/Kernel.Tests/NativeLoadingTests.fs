/// Loading the native libraries: by absolute path from the system's library directories (never a
/// libmkl_rt.so / libopenblas.so.0 that LD_LIBRARY_PATH or the working directory offers), or the
/// one file HYBRID_BLAS_PATH names; failures name the file and why it was rejected; the best
/// backend is registered by the first dense operation. Each case needs a fresh process (the
/// dynamic linker reads LD_LIBRARY_PATH at start-up; libraries load once per process), so each
/// runs in a child (ChildProcess) and the parent checks its outcome.
module Hybrid.Kernel.Tests.NativeLoadingTests

open System
open System.Diagnostics
open System.IO
open Expecto
open MathNet.Numerics.Providers.LinearAlgebra
open Hybrid.Kernel

/// A fresh temporary directory, deleted when the test process exits.
let private tempDir () =
    let d = Path.Combine(Path.GetTempPath(), "hybrid-loader-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory d |> ignore
    AppDomain.CurrentDomain.ProcessExit.Add(fun _ -> try Directory.Delete(d, true) with _ -> ())
    d

let private fakeSource = """
#include <stdio.h>
#include <stdlib.h>
/* Runs when the library is loaded: leaves a mark where HYBRID_FAKE_MARKER says. */
__attribute__((constructor)) static void hybrid_fake_constructor(void) {
    const char *marker = getenv("HYBRID_FAKE_MARKER");
    if (marker) { FILE *f = fopen(marker, "a"); if (f) { fputs("constructor ran\n", f); fclose(f); } }
}
int hybrid_fake_function(void) { return 42; }
"""

/// A valid shared library without any BLAS symbol at dir/name: built with gcc (its constructor
/// marks HYBRID_FAKE_MARKER), else a copy of the system's libz or libgomp. None when neither works.
let private fakeLibrary (dir: string) (name: string) : string option =
    let target = Path.Combine(dir, name)
    let source = Path.Combine(dir, "fake.c")
    File.WriteAllText(source, fakeSource)
    let built =
        try
            let psi = ProcessStartInfo("gcc", sprintf "-shared -fPIC -o \"%s\" \"%s\"" target source, UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true)
            use p = Process.Start psi
            p.StandardError.ReadToEnd() |> ignore
            p.WaitForExit()
            p.ExitCode = 0 && File.Exists target
        with _ -> false
    if built then Some target
    else
        [ for d in [ "/usr/lib/x86_64-linux-gnu"; "/lib/x86_64-linux-gnu"; "/usr/lib/aarch64-linux-gnu"; "/usr/lib64"; "/usr/lib" ] do
            for n in [ "libz.so.1"; "libgomp.so.1" ] -> Path.Combine(d, n) ]
        |> List.tryFind File.Exists
        |> Option.map (fun real -> File.Copy(real, target, true); target)

let private kinds = [ BackendKind.Mkl; BackendKind.OpenBlas ]

/// Expected availability handed to a child: "Mkl=True;OpenBlas=False".
let private expectVariable = "HYBRID_TEST_EXPECT"
let private expected () =
    match Environment.GetEnvironmentVariable expectVariable with
    | null -> Map.empty
    | s -> s.Split(';') |> Array.map (fun kv -> let p = kv.Split('=') in p.[0], bool.Parse p.[1]) |> Map.ofArray

let private library (kind: BackendKind) = (Linalg.Describe(Linalg.CreateProvider kind)).Library

let private throwsMessage<'E when 'E :> exn> (f: unit -> unit) =
    let e = Expect.throwsC f id
    if not (e :? 'E) then failtestf "expected %s, got %s: %s" typeof<'E>.Name (e.GetType().Name) e.Message
    e.Message

// ---- what runs in the children -----------------------------------------------------------

[<Tests>]
let childTests =
    testList "NativeLoading.child" [
        ChildProcess.childTests "loader-ld-library-path" (fun () -> [
            test "fake libraries on LD_LIBRARY_PATH and in the working directory are not loaded" {
                let fakeDir = Environment.GetEnvironmentVariable "HYBRID_FAKE_DIR"
                for KeyValue(name, available) in expected () do
                    let kind = Enum.Parse<BackendKind> name
                    Expect.equal (Linalg.IsAvailable kind) available (sprintf "%A available as in a normal process (%s)" kind (Linalg.WhyUnavailable kind))
                    if available then
                        let lib = library kind
                        Expect.isTrue (Path.IsPathRooted lib) (sprintf "%A loaded by absolute path: %s" kind lib)
                        Expect.isFalse (lib.StartsWith fakeDir) (sprintf "%A loaded from %s, not from the fake directory" kind lib)
                let marker = Environment.GetEnvironmentVariable "HYBRID_FAKE_MARKER"
                Expect.isFalse (File.Exists marker) "no fake library's constructor ran"
            } ])
        ChildProcess.childTests "loader-explicit-wrong" (fun () -> [
            test "HYBRID_BLAS_PATH to a library without BLAS: the messages name the file and the missing symbols" {
                let path = Environment.GetEnvironmentVariable Linalg.PathVariable
                Expect.isFalse (Linalg.IsAvailable BackendKind.Mkl) "not MKL"
                Expect.isFalse (Linalg.IsAvailable BackendKind.OpenBlas) "not OpenBLAS"
                let mkl = Linalg.WhyUnavailable BackendKind.Mkl
                Expect.stringContains mkl path "MKL: names the file"
                Expect.stringContains mkl "MKL_Get_Version_String" "MKL: names a missing symbol"
                Expect.isFalse (mkl.Contains "apt-get") "MKL: the file exists, so no install hint"
                let ob = Linalg.WhyUnavailable BackendKind.OpenBlas
                Expect.stringContains ob path "OpenBLAS: names the file"
                Expect.stringContains ob "openblas_get_config" "OpenBLAS: names a missing symbol"
                let best = throwsMessage<InvalidOperationException> (fun () -> Linalg.UseBest() |> ignore)
                Expect.stringContains best path "UseBest names the file"
                Expect.stringContains best "MKL_Set_Interface_Layer" "UseBest names MKL's missing symbols"
                Expect.stringContains best "openblas_get_config" "UseBest names OpenBLAS's missing symbols"
                let forced = throwsMessage<InvalidOperationException> (fun () -> Linalg.CreateProvider BackendKind.Mkl |> ignore)
                Expect.stringContains forced "MKL_Get_Version_String" "CreateProvider keeps the reason"
                // the first dense operation honours the explicit request rather than silently running managed code
                let product = throwsMessage<InvalidOperationException> (fun () -> Mat.MatMul(Mat(array2D [ [ 1.0 ] ]), Mat(array2D [ [ 2.0 ] ])) |> ignore)
                Expect.stringContains product path "a dense operation names the file"
            } ])
        ChildProcess.childTests "loader-explicit-missing" (fun () -> [
            test "HYBRID_BLAS_PATH to a missing file says so" {
                let path = Environment.GetEnvironmentVariable Linalg.PathVariable
                let why = Linalg.WhyUnavailable BackendKind.Mkl
                Expect.stringContains why (path + ": no such file") "names the file and the reason"
            } ])
        ChildProcess.childTests "loader-explicit-garbage" (fun () -> [
            test "HYBRID_BLAS_PATH to a file that is not a library gives the dynamic linker's reason" {
                let path = Environment.GetEnvironmentVariable Linalg.PathVariable
                let why = Linalg.WhyUnavailable BackendKind.OpenBlas
                Expect.stringContains why (path + ": the dynamic linker refused it") "names the file"
                Expect.isTrue (why.Contains "ELF" || why.Contains "too short") (sprintf "gives dlopen's reason: %s" why)
            } ])
        ChildProcess.childTests "loader-explicit-openblas" (fun () -> [
            test "HYBRID_BLAS_PATH to OpenBLAS registers OpenBLAS from that file" {
                let path = Environment.GetEnvironmentVariable Linalg.PathVariable
                let b = Linalg.UseBest()
                Expect.equal b.Kind BackendKind.OpenBlas "kind"
                Expect.equal b.Library path "the file named"
                Expect.stringContains (Linalg.WhyUnavailable BackendKind.Mkl) "MKL_Set_Interface_Layer" "the same file is not MKL"
            } ])
        ChildProcess.childTests "native-by-default" (fun () -> [
            test "the first matrix product registers the best backend" {
                Expect.isTrue (LinearAlgebraControl.Provider :? ManagedLinearAlgebraProvider) "nothing registered before"
                let c = Mat.MatMul(Mat(array2D [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]), Mat(array2D [ [ 5.0 ]; [ 6.0 ] ]))
                Expect.equal (c.ToArray()) (array2D [ [ 17.0 ]; [ 39.0 ] ]) "A·B"
                let best = Linalg.Choose(null, Func<_, _>(Linalg.IsAvailable))
                Expect.equal (Linalg.Describe LinearAlgebraControl.Provider).Kind best "registered by the product"
                Expect.equal Linalg.Backend.Kind best "Linalg.Backend"
            }
            test "the first solve registers it too (in a fresh state after Use(Managed) it stays managed)" {
                Linalg.Use BackendKind.Managed |> ignore
                Mat.Solve(Mat(array2D [ [ 2.0 ] ]), Vec [| 4.0 |]) |> ignore
                Expect.equal Linalg.Backend.Kind BackendKind.Managed "an explicit Use is kept"
            } ])
        ChildProcess.childTests "native-by-default-managed" (fun () -> [
            test "HYBRID_BLAS=managed opts out" {
                let x = Mat.Solve(Mat(array2D [ [ 2.0; 0.0 ]; [ 0.0; 4.0 ] ]), Vec [| 2.0; 8.0 |])
                Expect.equal (x.ToArray()) [| 1.0; 2.0 |] "A⁻¹b"
                Expect.isTrue (LinearAlgebraControl.Provider :? ManagedLinearAlgebraProvider) "managed"
                Expect.equal Linalg.Backend.Kind BackendKind.Managed "Linalg.Backend"
            } ])
    ]

// ---- the parent's tests -------------------------------------------------------------------

let private clean = [ Linalg.PathVariable, None; Linalg.EnvironmentVariable, None ]

[<Tests>]
let tests =
    testList "NativeLoading" [
        test "libmkl_rt.so / libopenblas.so.0 earlier on LD_LIBRARY_PATH or in the working directory are not loaded" {
            if not (OperatingSystem.IsLinux()) then skiptest "Linux only"
            let dir = tempDir ()
            let names = [ "libmkl_rt.so"; "libmkl_rt.so.2"; "libmkl_rt.so.1"; "libopenblas.so.0"; "libopenblas.so" ]
            for n in names do
                if (fakeLibrary dir n).IsNone then skiptest "neither gcc nor a system library to copy is available to make a fake library"
            let marker = Path.Combine(dir, "constructor-ran")
            let expect = String.Join(";", [ for k in kinds -> sprintf "%A=%b" k (Linalg.IsAvailable k) ])
            ChildProcess.expectPasses "loader-ld-library-path"
                (clean @ [ "LD_LIBRARY_PATH", Some(":" + dir); "HYBRID_FAKE_DIR", Some dir; "HYBRID_FAKE_MARKER", Some marker; expectVariable, Some expect ])
                (Some dir) |> ignore
            Expect.isFalse (File.Exists marker) "no fake library's constructor ran in the child"
        }
        test "HYBRID_BLAS_PATH to a wrong library names the file and the missing symbols" {
            if not (OperatingSystem.IsLinux()) then skiptest "Linux only"
            let dir = tempDir ()
            match fakeLibrary dir "libwrong.so" with
            | None -> skiptest "neither gcc nor a system library to copy is available to make a fake library"
            | Some path -> ChildProcess.expectPasses "loader-explicit-wrong" (clean @ [ Linalg.PathVariable, Some path ]) None |> ignore
        }
        test "HYBRID_BLAS_PATH to a missing file says: no such file" {
            let path = Path.Combine(tempDir (), "libmissing.so")
            ChildProcess.expectPasses "loader-explicit-missing" (clean @ [ Linalg.PathVariable, Some path ]) None |> ignore
        }
        test "HYBRID_BLAS_PATH to a file that is not a library gives the dynamic linker's reason" {
            if not (OperatingSystem.IsLinux()) then skiptest "Linux only"
            let path = Path.Combine(tempDir (), "libgarbage.so")
            File.WriteAllText(path, "not a shared library\n")
            ChildProcess.expectPasses "loader-explicit-garbage" (clean @ [ Linalg.PathVariable, Some path ]) None |> ignore
        }
        test "HYBRID_BLAS_PATH to the system's OpenBLAS registers it from that file" {
            if not (Linalg.IsAvailable BackendKind.OpenBlas) then skiptestf "OpenBLAS is not available: %s" (Linalg.WhyUnavailable BackendKind.OpenBlas)
            ChildProcess.expectPasses "loader-explicit-openblas" (clean @ [ Linalg.PathVariable, Some(library BackendKind.OpenBlas) ]) None |> ignore
        }
        test "The first dense operation registers the best backend; an explicit Use is kept" {
            ChildProcess.expectPasses "native-by-default" clean None |> ignore
        }
        test "HYBRID_BLAS=managed opts out of native by default" {
            ChildProcess.expectPasses "native-by-default-managed" [ Linalg.PathVariable, None; Linalg.EnvironmentVariable, Some "managed" ] None |> ignore
        }
        test "Libraries are loaded by absolute path and Backend names the file" {
            for kind in kinds do
                if Linalg.IsAvailable kind then
                    let lib = library kind
                    Expect.isTrue (Path.IsPathRooted lib && File.Exists lib) (sprintf "%A: %s" kind lib)
                    Expect.stringContains ((Linalg.Describe(Linalg.CreateProvider kind)).ToString()) lib "ToString names the file"
        }
    ]
