"""Matrix products: dot, batch_dot, linalg_gemm2."""
