import pytest
import torch

from nx_gradopt.core import batched


@pytest.mark.parametrize("rows", [5, batched.LOOP_MIN_ROWS])  # bmm, and the CPU's loop
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_batched_products_match_einsum(rows, k, dtype):
    generator = torch.Generator().manual_seed(rows + k)
    matrices = torch.rand((k, rows, rows), generator=generator, dtype=dtype)
    others = torch.rand((k, rows, rows), generator=generator, dtype=dtype)
    vectors = torch.rand((k, rows, 1), generator=generator, dtype=dtype)
    tol = dict(rtol=1e-12, atol=0) if dtype == torch.float64 else dict(rtol=1e-5, atol=0)
    torch.testing.assert_close(batched.matvec(matrices, vectors),
                               torch.einsum("bij,bjc->bic", matrices, vectors), **tol)
    torch.testing.assert_close(batched.matvec(matrices, vectors, transpose=True),
                               torch.einsum("bji,bjc->bic", matrices, vectors), **tol)
    torch.testing.assert_close(batched.inner(matrices, others),
                               torch.einsum("bij,bij->b", matrices, others), **tol)
