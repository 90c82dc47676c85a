// Matrix multiply, portable C++. Plain loops ordered so that the innermost loop runs over contiguous
// memory and g++ -O3 vectorises it (axpy over rows of B and C, or dot products over rows of A and B).
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

// Σ a[n]·b[n] (vectorised with partial sums: the order differs from a sequential sum).
inline float dot(int64_t n, const float* __restrict a, const float* __restrict b) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t k = 0; k < n; k++) sum += a[k] * b[k];
  return sum;
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
    // C[i,:] += (alpha·A[i,k])·B[k,:]
    for (int64_t i = 0; i < M; i++) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      for (int64_t k = 0; k < K; k++) axpy(N, alpha * a[k], B + k * ldb, c);
    }
  } else if (transA && !transB) {
    // A is [K,M]: C[i,:] += (alpha·A[k,i])·B[k,:]
    for (int64_t i = 0; i < M; i++) {
      float* c = C + i * ldc;
      for (int64_t k = 0; k < K; k++) axpy(N, alpha * A[k * lda + i], B + k * ldb, c);
    }
  } else if (!transA && transB) {
    // B is [N,K]: C[i,j] += alpha·(A[i,:]·B[j,:]), both rows contiguous.
    for (int64_t i = 0; i < M; i++) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      for (int64_t j = 0; j < N; j++) c[j] += alpha * dot(K, a, B + j * ldb);
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
