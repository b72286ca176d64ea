/// Running tests in a child process: this test executable started again with HYBRID_TEST_CHILD
/// naming a role, so that only the `childTests` of that role exist and run there. A test whose
/// failure mode is a crash (a native call with bad sizes) or that needs a fresh process (the
/// dynamic linker reads LD_LIBRARY_PATH at start-up; the backend is registered once per process)
/// runs there, and a crash is a failed test in the parent, not a dead test run.
module Hybrid.Kernel.Tests.ChildProcess

open System
open System.Diagnostics
open System.IO
open System.Text.RegularExpressions
open Expecto

type private Marker = class end

/// The environment variable naming the child's role.
let variable = "HYBRID_TEST_CHILD"

/// This process's role ("" in an ordinary test run).
let role = match Environment.GetEnvironmentVariable variable with null -> "" | s -> s

/// Tests that exist only in a child started with `name` as its role (an empty list otherwise).
let childTests (name: string) (tests: unit -> Test list) =
    testList ("Child." + name) (if role = name then tests () else [])

/// Starts this test executable as a child with the role and environment changes (None removes
/// a variable), in `cwd` when given; returns its exit code and its output (stdout then stderr).
let run (name: string) (env: (string * string option) list) (cwd: string option) : int * string =
    let dll = typeof<Marker>.Assembly.Location
    let apphost = Path.ChangeExtension(dll, null)
    let psi =
        if File.Exists apphost then ProcessStartInfo(apphost)
        else
            let dotnet =
                match Environment.ProcessPath with
                | p when not (isNull p) && Path.GetFileNameWithoutExtension p = "dotnet" -> p
                | _ -> "dotnet"
            let p = ProcessStartInfo(dotnet)
            p.ArgumentList.Add "exec"
            // loaded by another test host (its output has no Kernel.Tests.runtimeconfig.json):
            // run with the host's runtime configuration and dependencies
            let entry = Reflection.Assembly.GetEntryAssembly()
            if not (File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))) && not (isNull entry) then
                for option, file in [ "--runtimeconfig", Path.ChangeExtension(entry.Location, ".runtimeconfig.json")
                                      "--depsfile", Path.ChangeExtension(entry.Location, ".deps.json") ] do
                    if File.Exists file then
                        p.ArgumentList.Add option
                        p.ArgumentList.Add file
            p.ArgumentList.Add dll
            p
    for a in [ "--filter-test-list"; "Child." + name; "--sequenced"; "--no-spinner"; "--colours"; "0" ] do
        psi.ArgumentList.Add a
    psi.UseShellExecute <- false
    psi.RedirectStandardOutput <- true
    psi.RedirectStandardError <- true
    cwd |> Option.iter (fun d -> psi.WorkingDirectory <- d)
    psi.Environment.[variable] <- name
    for k, v in env do
        match v with
        | Some value -> psi.Environment.[k] <- value
        | None -> psi.Environment.Remove k |> ignore
    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()
    if not (p.WaitForExit(TimeSpan.FromMinutes 5.0)) then
        p.Kill true
        failtestf "child %s did not finish in 5 minutes" name
    p.WaitForExit()
    p.ExitCode, out.Result + err.Result

/// The child ran at least one test and every one passed: exit code 0 and Expecto's summary
/// "N passed, 0 ignored, 0 failed, 0 errored" with N ≥ 1. Otherwise fails with the output's tail
/// (a crash shows as a signal exit code, e.g. 139 for SIGSEGV).
let expectPasses (name: string) (env: (string * string option) list) (cwd: string option) =
    let code, output = run name env cwd
    let tail () =
        let lines = output.Split('\n')
        String.Join("\n", lines.[max 0 (lines.Length - 40) ..])
    let m = Regex.Match(output, @"(\d+) passed, (\d+) ignored, (\d+) failed, (\d+) errored")
    if code <> 0 || not m.Success || int m.Groups.[1].Value < 1 || m.Groups.[3].Value <> "0" || m.Groups.[4].Value <> "0" then
        failtestf "child %s: exit code %d (a crash is a signal: 134 SIGABRT, 139 SIGSEGV). Output's tail:\n%s" name code (tail ())
    output
