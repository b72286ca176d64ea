namespace Hybrid.Kernel

open System
open MathNet.Numerics
open MathNet.Numerics.Providers.LinearAlgebra

/// MathNet's ILinearAlgebraProvider over a native BLAS/LAPACK (Intel MKL or OpenBLAS): the
/// double-precision members call the library (see NativeDouble for each member's routine and
/// semantics); the float32, Complex and Complex32 members delegate to MathNet's managed provider.
/// Register it with Linalg.UseBest() / Linalg.Use(kind), or make one with Linalg.CreateProvider(kind).
[<Sealed>]
type NativeLinearAlgebraProvider internal (lib: NativeBlas) =
    let managed = ManagedLinearAlgebraProvider.Instance

    /// The library behind this provider: kind, path, version, threads.
    member _.Backend : Backend = lib.Backend

    /// For example "MKL 2020.0.4 (/usr/lib/x86_64-linux-gnu/libmkl_rt.so, 2 threads)".
    override _.ToString() = lib.Backend.ToString()

    /// The lower triangle of c (cols×cols) ← α·AᵀA + c, A the first `rows` rows (leading dimension
    /// lda) of a: BLAS dsyrk (MathNet's provider interface has no symmetric rank-k update).
    member internal _.SyrkLower(alpha: float, a: float[], lda: int, rows: int, cols: int, c: float[]) =
        NativeDouble.syrkLower lib alpha a lda rows cols c

    interface ILinearAlgebraProvider with
        /// The library was loaded and all its entry points were found when this provider was made.
        member _.IsAvailable() = true
        member _.InitializeVerify() = ()
        /// MKL: MKL_Free_Buffers; OpenBLAS: nothing to free. The library stays loaded.
        member _.FreeResources() = lib.FreeBuffers()

    interface ILinearAlgebraProvider<float> with
        /// daxpy.
        member _.AddVectorToScaledVector(y, alpha, x, result) = NativeDouble.addVectorToScaledVector lib y alpha x result
        /// dscal.
        member _.ScaleArray(alpha, x, result) = NativeDouble.scaleArray lib alpha x result
        /// A real array is its own conjugate: a copy (as the managed provider).
        member _.ConjugateArray(x, result) =
            if isNull x then nullArg "x"
            if not (obj.ReferenceEquals(x, result)) then Array.Copy(x, result, x.Length)
        /// ddot.
        member _.DotProduct(x, y) = NativeDouble.dotProduct lib x y
        /// SIMD loop; no BLAS routine.
        member _.AddArrays(x, y, result) = NativeDouble.addArrays x y result
        /// SIMD loop; no BLAS routine.
        member _.SubtractArrays(x, y, result) = NativeDouble.subtractArrays x y result
        /// SIMD loop; no BLAS routine.
        member _.PointWiseMultiplyArrays(x, y, result) = NativeDouble.pointWiseMultiplyArrays x y result
        /// SIMD loop; no BLAS routine.
        member _.PointWiseDivideArrays(x, y, result) = NativeDouble.pointWiseDivideArrays x y result
        /// Math.Pow loop; no BLAS routine.
        member _.PointWisePowerArrays(x, y, result) = NativeDouble.pointWisePowerArrays x y result
        /// LAPACK dlange.
        member _.MatrixNorm(norm, rows, columns, matrix) = NativeDouble.matrixNorm lib norm rows columns matrix
        /// BLAS dgemm / dgemv.
        member _.MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result) = NativeDouble.matrixMultiply lib x rowsX columnsX y rowsY columnsY result
        /// BLAS dgemm / dgemv.
        member _.MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c) = NativeDouble.matrixMultiplyWithUpdate lib transposeA transposeB alpha a rowsA columnsA b rowsB columnsB beta c
        /// LAPACK dgetrf.
        member _.LUFactor(data, order, ipiv) = NativeDouble.luFactor lib data order ipiv
        /// LAPACK dgetrf + dgetri.
        member _.LUInverse(a, order) = NativeDouble.luInverse lib a order
        /// LAPACK dgetri.
        member _.LUInverseFactored(a, order, ipiv) = NativeDouble.luInverseFactored lib a order ipiv
        /// LAPACK dgetrf + dgetrs.
        member _.LUSolve(columnsOfB, a, order, b) = NativeDouble.luSolve lib columnsOfB a order b
        /// LAPACK dgetrs.
        member _.LUSolveFactored(columnsOfB, a, order, ipiv, b) = NativeDouble.luSolveFactored lib columnsOfB a order ipiv b
        /// LAPACK dpotrf.
        member _.CholeskyFactor(a, order) = NativeDouble.choleskyFactor lib a order
        /// LAPACK dpotrf + dpotrs.
        member _.CholeskySolve(a, orderA, b, columnsB) = NativeDouble.choleskySolve lib a orderA b columnsB
        /// LAPACK dpotrs.
        member _.CholeskySolveFactored(a, orderA, b, columnsB) = NativeDouble.choleskySolveFactored lib a orderA b columnsB
        /// LAPACK dgeqrf + dorgqr.
        member _.QRFactor(a, rowsA, columnsA, q, tau) = NativeDouble.qrFactor lib a rowsA columnsA q tau
        /// LAPACK dgeqrf + dorgqr.
        member _.ThinQRFactor(a, rowsA, columnsA, r, tau) = NativeDouble.thinQRFactor lib a rowsA columnsA r tau
        /// LAPACK dgeqrf + dormqr + dtrtrs.
        member _.QRSolve(a, rows, columns, b, columnsB, x, method) = NativeDouble.qrSolve lib a rows columns b columnsB x method
        /// BLAS dgemm + LAPACK dtrtrs.
        member _.QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method) = NativeDouble.qrSolveFactored lib q r rowsA columnsA tau b columnsB x method
        /// LAPACK dgesdd.
        member _.SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt) = NativeDouble.singularValueDecomposition lib computeVectors a rowsA columnsA s u vt
        /// LAPACK dgesdd + BLAS dgemm.
        member _.SvdSolve(a, rowsA, columnsA, b, columnsB, x) = NativeDouble.svdSolve lib a rowsA columnsA b columnsB x
        /// BLAS dgemm.
        member _.SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x) = NativeDouble.svdSolveFactored lib rowsA columnsA s u vt b columnsB x
        /// LAPACK dsyevd (symmetric) / dgeev.
        member _.EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD) = NativeDouble.eigenDecomp lib isSymmetric order matrix matrixEv vectorEv matrixD

    // float32: MathNet's managed provider
    interface ILinearAlgebraProvider<float32> with
        member _.AddVectorToScaledVector(y, alpha, x, result) = (managed :> ILinearAlgebraProvider<float32>).AddVectorToScaledVector(y, alpha, x, result)
        member _.ScaleArray(alpha, x, result) = (managed :> ILinearAlgebraProvider<float32>).ScaleArray(alpha, x, result)
        member _.ConjugateArray(x, result) = (managed :> ILinearAlgebraProvider<float32>).ConjugateArray(x, result)
        member _.DotProduct(x, y) = (managed :> ILinearAlgebraProvider<float32>).DotProduct(x, y)
        member _.AddArrays(x, y, result) = (managed :> ILinearAlgebraProvider<float32>).AddArrays(x, y, result)
        member _.SubtractArrays(x, y, result) = (managed :> ILinearAlgebraProvider<float32>).SubtractArrays(x, y, result)
        member _.PointWiseMultiplyArrays(x, y, result) = (managed :> ILinearAlgebraProvider<float32>).PointWiseMultiplyArrays(x, y, result)
        member _.PointWiseDivideArrays(x, y, result) = (managed :> ILinearAlgebraProvider<float32>).PointWiseDivideArrays(x, y, result)
        member _.PointWisePowerArrays(x, y, result) = (managed :> ILinearAlgebraProvider<float32>).PointWisePowerArrays(x, y, result)
        member _.MatrixNorm(norm, rows, columns, matrix) = (managed :> ILinearAlgebraProvider<float32>).MatrixNorm(norm, rows, columns, matrix)
        member _.MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result) = (managed :> ILinearAlgebraProvider<float32>).MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result)
        member _.MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c) = (managed :> ILinearAlgebraProvider<float32>).MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c)
        member _.LUFactor(data, order, ipiv) = (managed :> ILinearAlgebraProvider<float32>).LUFactor(data, order, ipiv)
        member _.LUInverse(a, order) = (managed :> ILinearAlgebraProvider<float32>).LUInverse(a, order)
        member _.LUInverseFactored(a, order, ipiv) = (managed :> ILinearAlgebraProvider<float32>).LUInverseFactored(a, order, ipiv)
        member _.LUSolve(columnsOfB, a, order, b) = (managed :> ILinearAlgebraProvider<float32>).LUSolve(columnsOfB, a, order, b)
        member _.LUSolveFactored(columnsOfB, a, order, ipiv, b) = (managed :> ILinearAlgebraProvider<float32>).LUSolveFactored(columnsOfB, a, order, ipiv, b)
        member _.CholeskyFactor(a, order) = (managed :> ILinearAlgebraProvider<float32>).CholeskyFactor(a, order)
        member _.CholeskySolve(a, orderA, b, columnsB) = (managed :> ILinearAlgebraProvider<float32>).CholeskySolve(a, orderA, b, columnsB)
        member _.CholeskySolveFactored(a, orderA, b, columnsB) = (managed :> ILinearAlgebraProvider<float32>).CholeskySolveFactored(a, orderA, b, columnsB)
        member _.QRFactor(a, rowsA, columnsA, q, tau) = (managed :> ILinearAlgebraProvider<float32>).QRFactor(a, rowsA, columnsA, q, tau)
        member _.ThinQRFactor(a, rowsA, columnsA, r, tau) = (managed :> ILinearAlgebraProvider<float32>).ThinQRFactor(a, rowsA, columnsA, r, tau)
        member _.QRSolve(a, rows, columns, b, columnsB, x, method) = (managed :> ILinearAlgebraProvider<float32>).QRSolve(a, rows, columns, b, columnsB, x, method)
        member _.QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method) = (managed :> ILinearAlgebraProvider<float32>).QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method)
        member _.SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt) = (managed :> ILinearAlgebraProvider<float32>).SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt)
        member _.SvdSolve(a, rowsA, columnsA, b, columnsB, x) = (managed :> ILinearAlgebraProvider<float32>).SvdSolve(a, rowsA, columnsA, b, columnsB, x)
        member _.SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x) = (managed :> ILinearAlgebraProvider<float32>).SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x)
        member _.EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD) = (managed :> ILinearAlgebraProvider<float32>).EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD)

    // System.Numerics.Complex: MathNet's managed provider
    interface ILinearAlgebraProvider<System.Numerics.Complex> with
        member _.AddVectorToScaledVector(y, alpha, x, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).AddVectorToScaledVector(y, alpha, x, result)
        member _.ScaleArray(alpha, x, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).ScaleArray(alpha, x, result)
        member _.ConjugateArray(x, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).ConjugateArray(x, result)
        member _.DotProduct(x, y) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).DotProduct(x, y)
        member _.AddArrays(x, y, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).AddArrays(x, y, result)
        member _.SubtractArrays(x, y, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).SubtractArrays(x, y, result)
        member _.PointWiseMultiplyArrays(x, y, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).PointWiseMultiplyArrays(x, y, result)
        member _.PointWiseDivideArrays(x, y, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).PointWiseDivideArrays(x, y, result)
        member _.PointWisePowerArrays(x, y, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).PointWisePowerArrays(x, y, result)
        member _.MatrixNorm(norm, rows, columns, matrix) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).MatrixNorm(norm, rows, columns, matrix)
        member _.MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result)
        member _.MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c)
        member _.LUFactor(data, order, ipiv) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).LUFactor(data, order, ipiv)
        member _.LUInverse(a, order) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).LUInverse(a, order)
        member _.LUInverseFactored(a, order, ipiv) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).LUInverseFactored(a, order, ipiv)
        member _.LUSolve(columnsOfB, a, order, b) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).LUSolve(columnsOfB, a, order, b)
        member _.LUSolveFactored(columnsOfB, a, order, ipiv, b) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).LUSolveFactored(columnsOfB, a, order, ipiv, b)
        member _.CholeskyFactor(a, order) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).CholeskyFactor(a, order)
        member _.CholeskySolve(a, orderA, b, columnsB) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).CholeskySolve(a, orderA, b, columnsB)
        member _.CholeskySolveFactored(a, orderA, b, columnsB) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).CholeskySolveFactored(a, orderA, b, columnsB)
        member _.QRFactor(a, rowsA, columnsA, q, tau) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).QRFactor(a, rowsA, columnsA, q, tau)
        member _.ThinQRFactor(a, rowsA, columnsA, r, tau) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).ThinQRFactor(a, rowsA, columnsA, r, tau)
        member _.QRSolve(a, rows, columns, b, columnsB, x, method) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).QRSolve(a, rows, columns, b, columnsB, x, method)
        member _.QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method)
        member _.SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt)
        member _.SvdSolve(a, rowsA, columnsA, b, columnsB, x) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).SvdSolve(a, rowsA, columnsA, b, columnsB, x)
        member _.SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x)
        member _.EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD) = (managed :> ILinearAlgebraProvider<System.Numerics.Complex>).EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD)

    // Complex32: MathNet's managed provider
    interface ILinearAlgebraProvider<Complex32> with
        member _.AddVectorToScaledVector(y, alpha, x, result) = (managed :> ILinearAlgebraProvider<Complex32>).AddVectorToScaledVector(y, alpha, x, result)
        member _.ScaleArray(alpha, x, result) = (managed :> ILinearAlgebraProvider<Complex32>).ScaleArray(alpha, x, result)
        member _.ConjugateArray(x, result) = (managed :> ILinearAlgebraProvider<Complex32>).ConjugateArray(x, result)
        member _.DotProduct(x, y) = (managed :> ILinearAlgebraProvider<Complex32>).DotProduct(x, y)
        member _.AddArrays(x, y, result) = (managed :> ILinearAlgebraProvider<Complex32>).AddArrays(x, y, result)
        member _.SubtractArrays(x, y, result) = (managed :> ILinearAlgebraProvider<Complex32>).SubtractArrays(x, y, result)
        member _.PointWiseMultiplyArrays(x, y, result) = (managed :> ILinearAlgebraProvider<Complex32>).PointWiseMultiplyArrays(x, y, result)
        member _.PointWiseDivideArrays(x, y, result) = (managed :> ILinearAlgebraProvider<Complex32>).PointWiseDivideArrays(x, y, result)
        member _.PointWisePowerArrays(x, y, result) = (managed :> ILinearAlgebraProvider<Complex32>).PointWisePowerArrays(x, y, result)
        member _.MatrixNorm(norm, rows, columns, matrix) = (managed :> ILinearAlgebraProvider<Complex32>).MatrixNorm(norm, rows, columns, matrix)
        member _.MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result) = (managed :> ILinearAlgebraProvider<Complex32>).MatrixMultiply(x, rowsX, columnsX, y, rowsY, columnsY, result)
        member _.MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c) = (managed :> ILinearAlgebraProvider<Complex32>).MatrixMultiplyWithUpdate(transposeA, transposeB, alpha, a, rowsA, columnsA, b, rowsB, columnsB, beta, c)
        member _.LUFactor(data, order, ipiv) = (managed :> ILinearAlgebraProvider<Complex32>).LUFactor(data, order, ipiv)
        member _.LUInverse(a, order) = (managed :> ILinearAlgebraProvider<Complex32>).LUInverse(a, order)
        member _.LUInverseFactored(a, order, ipiv) = (managed :> ILinearAlgebraProvider<Complex32>).LUInverseFactored(a, order, ipiv)
        member _.LUSolve(columnsOfB, a, order, b) = (managed :> ILinearAlgebraProvider<Complex32>).LUSolve(columnsOfB, a, order, b)
        member _.LUSolveFactored(columnsOfB, a, order, ipiv, b) = (managed :> ILinearAlgebraProvider<Complex32>).LUSolveFactored(columnsOfB, a, order, ipiv, b)
        member _.CholeskyFactor(a, order) = (managed :> ILinearAlgebraProvider<Complex32>).CholeskyFactor(a, order)
        member _.CholeskySolve(a, orderA, b, columnsB) = (managed :> ILinearAlgebraProvider<Complex32>).CholeskySolve(a, orderA, b, columnsB)
        member _.CholeskySolveFactored(a, orderA, b, columnsB) = (managed :> ILinearAlgebraProvider<Complex32>).CholeskySolveFactored(a, orderA, b, columnsB)
        member _.QRFactor(a, rowsA, columnsA, q, tau) = (managed :> ILinearAlgebraProvider<Complex32>).QRFactor(a, rowsA, columnsA, q, tau)
        member _.ThinQRFactor(a, rowsA, columnsA, r, tau) = (managed :> ILinearAlgebraProvider<Complex32>).ThinQRFactor(a, rowsA, columnsA, r, tau)
        member _.QRSolve(a, rows, columns, b, columnsB, x, method) = (managed :> ILinearAlgebraProvider<Complex32>).QRSolve(a, rows, columns, b, columnsB, x, method)
        member _.QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method) = (managed :> ILinearAlgebraProvider<Complex32>).QRSolveFactored(q, r, rowsA, columnsA, tau, b, columnsB, x, method)
        member _.SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt) = (managed :> ILinearAlgebraProvider<Complex32>).SingularValueDecomposition(computeVectors, a, rowsA, columnsA, s, u, vt)
        member _.SvdSolve(a, rowsA, columnsA, b, columnsB, x) = (managed :> ILinearAlgebraProvider<Complex32>).SvdSolve(a, rowsA, columnsA, b, columnsB, x)
        member _.SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x) = (managed :> ILinearAlgebraProvider<Complex32>).SvdSolveFactored(rowsA, columnsA, s, u, vt, b, columnsB, x)
        member _.EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD) = (managed :> ILinearAlgebraProvider<Complex32>).EigenDecomp(isSymmetric, order, matrix, matrixEv, vectorEv, matrixD)
