// OpenBLAS's CBLAS interface plus its thread-control entry points.
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// LAPACK (exported by Debian's libopenblas): Cholesky factorisation and inverse of a symmetric
// positive-definite matrix, column-major, Fortran calling convention.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);

// The kernel family OpenBLAS picked at load time (DYNAMIC_ARCH builds), e.g. "Haswell", "Zen".
char *openblas_get_corename(void);
