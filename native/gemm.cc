// Matrix multiply, portable C++. Plain loops ordered so that the innermost loop runs over contiguous
// memory and g++ -O3 vectorises it (axpy over rows of B and C, four rows of B per pass to cut the
// loads and stores of C, or dot products over rows of A and B).
// A packed, register-blocked SIMD GEMM chosen at run time will replace the body of sgemm later;
// this version stays as the oracle and the fallback.
#include <algorithm>
#include <cstdint>

#include "kernels.h"

namespace rnnkit {
namespace {

// y[n] += a·x[n]
inline void axpy(int64_t n, float a, const float* __restrict x, float* __restrict y) {
  for (int64_t j = 0; j < n; j++) y[j] += a * x[j];
}

// y[n] += a0·x0[n] + a1·x1[n] + a2·x2[n] + a3·x3[n]: four rows of B per pass over a row of C.
inline void axpy4(int64_t n, float a0, float a1, float a2, float a3, const float* __restrict x0,
                  const float* __restrict x1, const float* __restrict x2, const float* __restrict x3,
                  float* __restrict y) {
  for (int64_t j = 0; j < n; j++) y[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
}

// Σ a[n]·b[n] (vectorised with partial sums: the order differs from a sequential sum).
inline float dot(int64_t n, const float* __restrict a, const float* __restrict b) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t k = 0; k < n; k++) sum += a[k] * b[k];
  return sum;
}

// out[0..4) = Σ a[n]·bq[n] for four rows b0..b3: one pass over a.
inline void dot4(int64_t n, const float* __restrict a, const float* __restrict b0, const float* __restrict b1,
                 const float* __restrict b2, const float* __restrict b3, float out[4]) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (int64_t k = 0; k < n; k++) {
    const float x = a[k];
    s0 += x * b0[k];
    s1 += x * b1[k];
    s2 += x * b2[k];
    s3 += x * b3[k];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

// C[M,N] = beta·C, where beta == 0 overwrites (NaN and Inf in C do not survive).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; i++) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(c, c + N, 0.0f);
    } else {
      for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
  }
}

// Rows of op(A) for transA are columns of A: they are gathered into this many floats on the stack.
constexpr int64_t kColumnBlock = 256;

}  // namespace

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  scale_c(M, N, beta, C, ldc);
  if (K == 0) return;

  if (!transA && !transB) {
    // C[i,:] += (alpha·A[i,k])·B[k,:], four k at a time
    for (int64_t i = 0; i < M; i++) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      int64_t k = 0;
      for (; k + 4 <= K; k += 4) {
        const float* b = B + k * ldb;
        axpy4(N, alpha * a[k], alpha * a[k + 1], alpha * a[k + 2], alpha * a[k + 3], b, b + ldb, b + 2 * ldb, b + 3 * ldb, c);
      }
      for (; k < K; k++) axpy(N, alpha * a[k], B + k * ldb, c);
    }
  } else if (transA && !transB) {
    // A is [K,M]: C[i,:] += (alpha·A[k,i])·B[k,:], four k at a time
    for (int64_t i = 0; i < M; i++) {
      float* c = C + i * ldc;
      int64_t k = 0;
      for (; k + 4 <= K; k += 4) {
        const float* a = A + k * lda + i;
        const float* b = B + k * ldb;
        axpy4(N, alpha * a[0], alpha * a[lda], alpha * a[2 * lda], alpha * a[3 * lda], b, b + ldb, b + 2 * ldb,
              b + 3 * ldb, c);
      }
      for (; k < K; k++) axpy(N, alpha * A[k * lda + i], B + k * ldb, c);
    }
  } else if (!transA && transB) {
    // B is [N,K]: C[i,j] += alpha·(A[i,:]·B[j,:]), both rows contiguous, four j at a time.
    for (int64_t i = 0; i < M; i++) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      int64_t j = 0;
      for (; j + 4 <= N; j += 4) {
        const float* b = B + j * ldb;
        float sums[4];
        dot4(K, a, b, b + ldb, b + 2 * ldb, b + 3 * ldb, sums);
        for (int q = 0; q < 4; q++) c[j + q] += alpha * sums[q];
      }
      for (; j < N; j++) c[j] += alpha * dot(K, a, B + j * ldb);
    }
  } else {
    // A is [K,M], B is [N,K]: gather column i of A a block of k at a time, then dot with rows of B.
    float column[kColumnBlock];
    for (int64_t i = 0; i < M; i++) {
      float* c = C + i * ldc;
      for (int64_t k0 = 0; k0 < K; k0 += kColumnBlock) {
        const int64_t kn = std::min(kColumnBlock, K - k0);
        for (int64_t k = 0; k < kn; k++) column[k] = A[(k0 + k) * lda + i];
        for (int64_t j = 0; j < N; j++) c[j] += alpha * dot(kn, column, B + j * ldb + k0);
      }
    }
  }
}

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, const float* B, float beta, float* C) {
  sgemm(transA, transB, M, N, K, alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}

}  // namespace rnnkit
