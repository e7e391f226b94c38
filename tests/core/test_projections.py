import torch
from hypothesis import given
from hypothesis import strategies as st

from nx_gradopt.core.projections import project_onto_simplex


@given(
    st.lists(st.floats(-10, 10), min_size=1, max_size=30),
    st.floats(0.1, 50.0),
)
def test_simplex_projection_satisfies_kkt(values, total):
    y = torch.tensor(values, dtype=torch.float64)
    w = project_onto_simplex(y, total)
    assert bool((w >= 0).all())
    assert abs(float(w.sum()) - total) <= 1e-9 * max(1.0, total)
    # KKT: w = max(y - tau, 0) for one tau; on the support y - w is constant = tau,
    # and off the support y <= tau.
    support = w > 0
    tau = float((y - w)[support].mean())
    assert torch.allclose((y - w)[support], torch.full_like(y[support], tau), atol=1e-9)
    assert bool((y[~support] <= tau + 1e-9).all())
