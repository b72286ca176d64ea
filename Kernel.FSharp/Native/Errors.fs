namespace Hybrid.Kernel

open System

/// A square matrix is exactly singular: a pivot of its LU factorization (or a diagonal
/// entry of a triangular factor) is zero, so a solve or an inverse has no answer.
/// Derives from ArgumentException because the matrix argument is what is wrong.
type SingularMatrixException(message: string, order: int, pivot: int, inner: exn) =
    inherit ArgumentException(message, inner)
    new(message: string, order: int, pivot: int) = SingularMatrixException(message, order, pivot, null)
    /// A singular matrix found by a differentiable primitive (order and pivot unknown: −1).
    new(message: string, inner: exn) = SingularMatrixException(message, -1, -1, inner)
    new(message: string) = SingularMatrixException(message, -1, -1, null)
    /// The order n of the n×n matrix (−1 when unknown).
    member _.Order = order
    /// The 1-based column whose pivot is zero (LAPACK's info; −1 when unknown).
    member _.Pivot = pivot

/// A symmetric matrix given to a Cholesky factorization is not positive definite.
/// Derives from ArgumentException, as MathNet's managed Cholesky throws ArgumentException.
type NotPositiveDefiniteException(message: string, order: int, minorOrder: int, inner: exn) =
    inherit ArgumentException(message, inner)
    new(message: string, order: int, minorOrder: int) = NotPositiveDefiniteException(message, order, minorOrder, null)
    /// A matrix that is not positive definite found by a differentiable primitive (orders unknown: −1).
    new(message: string, inner: exn) = NotPositiveDefiniteException(message, -1, -1, inner)
    new(message: string) = NotPositiveDefiniteException(message, -1, -1, null)
    /// The order n of the n×n matrix (−1 when unknown).
    member _.Order = order
    /// The order k of the leading k×k minor that is not positive (LAPACK's info from dpotrf; −1 when unknown).
    member _.MinorOrder = minorOrder

/// Turns LAPACK's info into exceptions with messages that name the routine, the shape and the fix.
module internal LapackInfo =

    /// info < 0: argument -info of the routine was illegal. Arguments are checked in managed
    /// code before the call, so this is a bug in the provider, not in the caller's input.
    let illegal (routine: string) (info: int) =
        if info < 0 then
            raise (ArgumentException(
                sprintf "%s: argument %d had an illegal value (LAPACK info = %d). The provider checks shapes before calling LAPACK, so this is a bug in Hybrid's native provider; please report it with the matrix shapes." routine (-info) info))

    /// A square n×n matrix with an exactly zero pivot in column `pivot` (1-based).
    let singular (routine: string) (order: int) (pivot: int) : exn =
        SingularMatrixException(
            sprintf "The %dx%d matrix is singular: the pivot in column %d of its LU factorization is exactly zero (%s, info = %d), so the system has no unique solution. Check for linearly dependent rows or columns, or use a least-squares solve (QR or SVD)." order order pivot routine pivot,
            order, pivot) :> exn

    /// A rows×columns matrix whose triangular factor R has an exactly zero diagonal entry R(pivot, pivot).
    let rankDeficient (routine: string) (rows: int) (columns: int) (pivot: int) : exn =
        SingularMatrixException(
            sprintf "The %dx%d matrix is rank deficient: R(%d,%d) = 0 in its QR factorization (%s, info = %d), so the least-squares problem has no unique solution. Use an SVD solve, or remove the dependent column %d." rows columns pivot pivot routine pivot pivot,
            columns, pivot) :> exn

    let notPositiveDefinite (routine: string) (order: int) (minor: int) : exn =
        NotPositiveDefiniteException(
            sprintf "Matrix must be positive definite: the leading minor of order %d of the %dx%d matrix is not positive (%s info = %d). The matrix is indefinite, singular or not symmetric; use an LU solve, or add a multiple of the identity (modified Cholesky)." minor order order routine minor,
            order, minor) :> exn

    let nonConvergence (routine: string) (info: int) : exn =
        MathNet.Numerics.NonConvergenceException(
            sprintf "%s did not converge (LAPACK info = %d)." routine info) :> exn

/// Matrix sizes checked in 64-bit arithmetic before any array is indexed or any native routine
/// is called: rows·cols of two valid Int32 dimensions can overflow Int32 (65536·65536 wraps to
/// 0), so a product computed in Int32 could accept storage that does not hold the matrix.
module internal Shapes =

    /// rows·cols as an Int32, or an ArgumentException (parameter `param`) naming `what` and its
    /// shape when a dimension is negative or the count exceeds what one .NET array can hold.
    let elements (param: string) (what: string) (rows: int) (cols: int) : int =
        if rows < 0 || cols < 0 then
            invalidArg param (sprintf "%s is %d×%d: a matrix dimension cannot be negative." what rows cols)
        let n = int64 rows * int64 cols
        if n > int64 Array.MaxLength then
            invalidArg param (sprintf "%s is %d×%d = %d elements, more than one array can hold (%d)." what rows cols n Array.MaxLength)
        int n

    /// Storage of `length` elements holds a rows×cols matrix exactly, or an ArgumentException
    /// naming `what`, its shape, the elements it needs and the elements it has.
    let storage (param: string) (what: string) (rows: int) (cols: int) (length: int) =
        let n = elements param what rows cols
        if n <> length then
            invalidArg param (sprintf "%s is %d×%d and needs %d elements, but its storage has %d." what rows cols n length)
