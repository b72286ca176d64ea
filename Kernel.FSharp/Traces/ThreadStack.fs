#nowarn "9" "51" // ThreadStack.here takes the address of a local (never dereferenced)

namespace Hybrid.Kernel

open System
open System.Runtime.InteropServices
open Microsoft.FSharp.NativeInterop

/// The calling thread's stack: the address range [Low, Low + Size) its frames live in. Threads'
/// stacks never overlap, so "the address of a local lies in thread A's range" is an exact test that
/// the code runs on thread A — without a thread-static read, which on Linux is a call (around which
/// the JIT spills every live register). `Real`'s operators use it to tell that a value's own trace
/// belongs to the running thread. Where the range is not known (an OS without the call below, or a
/// call that fails) Size is 0 and the operators take the thread-static path instead.
module internal ThreadStack =

    [<DllImport("libc.so.6", EntryPoint = "pthread_self")>]
    extern unativeint private pthread_self()
    [<DllImport("libc.so.6", EntryPoint = "pthread_getattr_np")>]
    extern int private pthread_getattr_np(unativeint thread, nativeint attr)
    [<DllImport("libc.so.6", EntryPoint = "pthread_attr_getstack")>]
    extern int private pthread_attr_getstack(nativeint attr, nativeint& addr, unativeint& size)
    [<DllImport("libc.so.6", EntryPoint = "pthread_attr_destroy")>]
    extern int private pthread_attr_destroy(nativeint attr)
    [<DllImport("kernel32.dll", EntryPoint = "GetCurrentThreadStackLimits")>]
    extern void private GetCurrentThreadStackLimits(unativeint& low, unativeint& high)

    let private linux () : struct (unativeint * unativeint) =
        let attr = Marshal.AllocHGlobal 512 // pthread_attr_t is 56 bytes (x64) or 64 (arm64)
        try
            if pthread_getattr_np (pthread_self (), attr) <> 0 then struct (0un, 0un)
            else
                let mutable addr = 0n
                let mutable size = 0un
                let ok = pthread_attr_getstack (attr, &addr, &size) = 0
                pthread_attr_destroy attr |> ignore
                if ok then struct (unativeint addr, size) else struct (0un, 0un)
        finally
            Marshal.FreeHGlobal attr

    let private windows () : struct (unativeint * unativeint) =
        let mutable low = 0un
        let mutable high = 0un
        GetCurrentThreadStackLimits(&low, &high)
        if high > low then struct (low, high - low) else struct (0un, 0un)

    /// An address in the caller's frame (inlined: the caller's own stack).
    let inline here () : unativeint =
        let mutable probe = 0uy
        unativeint (NativePtr.toNativeInt &&probe)

    /// (Low, Size) of the calling thread's stack, or (0, 0) when unknown. A system call: callers cache it.
    let current () : struct (unativeint * unativeint) =
        let struct (low, size) =
            try
                if OperatingSystem.IsLinux() then linux ()
                elif OperatingSystem.IsWindows() then windows ()
                else struct (0un, 0un)
            with _ -> struct (0un, 0un) // no such library or entry point (e.g. musl): the thread-static path
        // the range must hold this very frame, or it is not this thread's stack as the operators see it
        if size > 0un && here () - low < size then struct (low, size) else struct (0un, 0un)
