import os

import networkx as nx
import pytest
import torch
from hypothesis import HealthCheck, settings

from nx_gradopt.testing import FakeCuda

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# NetworkX warns on every conversion-cache hit; the cache is the behaviour we want.
nx.config.warnings_to_ignore.add("cache")


# "fake-cuda" runs the GPU path on CPU data under nx_gradopt.testing.FakeCuda, which enforces
# CUDA's device rules and counts host synchronisations; real CUDA joins where present.
DEVICES = ["cpu", "fake-cuda"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """The device to pass as ``device=``: 'cpu', or 'cuda' (fake or real)."""
    if request.param == "fake-cuda":
        with FakeCuda():
            yield "cuda"
    else:
        yield request.param
