/// Compiled into every F# test project that references Expecto (see Directory.Build.props and
/// Directory.Build.targets), so that `dotnet test`, IDE test explorers and CI runners see each Expecto test:
/// the [<Tests>] values of this assembly are flattened (Expecto's Test.toTestCodeList) and each flat test is
/// one case of the theory below, run by Expecto's own executor with Expecto's default configuration (the one
/// `dotnet run` uses). Pending tests (ptest) and tests that call skiptest show as skipped; a failing test fails
/// with Expecto's message.
namespace Hybrid.Tests.ExpectoXunit

open System.Collections.Generic
open System.Runtime.ExceptionServices
open System.Threading
open Expecto
open Expecto.Impl
open Xunit

/// Every Expecto test of this assembly as one xunit theory case, named by its Expecto path.
type ExpectoTests() =
    static let config = ExpectoConfig.defaultConfig

    static let tests : Lazy<IReadOnlyDictionary<string, FlatTest>> =
        lazy
            (let found = Dictionary<string, FlatTest>()
             match testFromAssembly typeof<ExpectoTests>.Assembly with
             | None -> ()
             | Some test ->
                 for t in Test.toTestCodeList test do
                     let name = config.joinWith.format t.name
                     // Expecto's runner refuses duplicate names; keep every case visible here instead
                     let mutable unique = name
                     let mutable k = 2
                     while found.ContainsKey unique do
                         unique <- sprintf "%s (%d)" name k
                         k <- k + 1
                     found[unique] <- t
             found :> IReadOnlyDictionary<_, _>)

    /// The full Expecto names of the tests, one theory row each.
    static member Names: seq<obj[]> = tests.Value.Keys |> Seq.map (fun n -> [| box n |])

    /// Runs the Expecto test called <paramref name="name"/>.
    [<SkippableTheory>]
    [<MemberData(nameof ExpectoTests.Names)>]
    member _.Expecto(name: string) =
        let summary = execTestAsync CancellationToken.None config tests.Value[name] |> Async.RunSynchronously

        match summary.result with
        | Passed -> ()
        | Ignored reason -> raise (SkipException(if System.String.IsNullOrWhiteSpace reason then "pending (ptest)" else reason))
        | Failed message -> raise (Sdk.XunitException(message.Trim()))
        | Error e -> ExceptionDispatchInfo.Capture(e).Throw()
