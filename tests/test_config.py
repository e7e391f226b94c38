import networkx as nx
import random

import numpy as np
import pytest
import torch

from nx_gradopt.config import device_and_dtype, runtime
from nx_gradopt.core.runtime import (
    Runtime, randn, resolve_device, resolve_dtype, torch_generator,
)


def test_config_defaults_and_validation():
    config = nx.config.backends.gradopt
    assert config.device in ("auto", "cpu")
    assert config.dtype == "float64"
    with pytest.raises(ValueError, match="`device` must be 'auto', 'cpu'.*got 'gpu'"):
        config.device = "gpu"
    with pytest.raises(ValueError, match="`dtype` must be 'float64' or 'float32'; got 'int8'"):
        config.dtype = "int8"
    with config(dtype=torch.float32):
        assert config.dtype == "float32"
        assert device_and_dtype() == (resolve_device("auto"), torch.float32)
    assert config.dtype == "float64"


def test_argument_beats_config():
    with nx.config.backends.gradopt(dtype="float32"):
        assert device_and_dtype(dtype="float64")[1] == torch.float64


def test_resolve_errors():
    with pytest.raises(ValueError, match="`dtype` must be 'float64' or 'float32'; got 'float16'"):
        resolve_dtype("float16")
    with pytest.raises(ValueError, match="`device` must be 'auto', 'cpu', 'cuda'.*; got 'moon'"):
        resolve_device("moon")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_seed_semantics():
    draw = lambda g: torch.rand(3, generator=g)  # noqa: E731
    assert torch.equal(draw(torch_generator(7)), draw(torch_generator(7)))
    assert torch.equal(
        draw(torch_generator(np.random.RandomState(3))),
        draw(torch_generator(np.random.RandomState(3))),
    )
    assert torch.equal(
        draw(torch_generator(np.random.default_rng(3))),
        draw(torch_generator(np.random.default_rng(3))),
    )
    assert torch.equal(draw(torch_generator(random.Random(3))), draw(torch_generator(random.Random(3))))
    # None draws from NumPy's global RNG, as NetworkX does; its state is restored afterwards
    # so that later tests see the global RNG as they would without this one.
    saved = np.random.get_state()
    try:
        np.random.seed(11)
        first = draw(torch_generator(None))
        np.random.seed(11)
        assert torch.equal(first, draw(torch_generator(None)))
    finally:
        np.random.set_state(saved)
    with pytest.raises(ValueError, match="`seed` must be None, an int.*got 'abc'"):
        torch_generator("abc")


def test_runtime_resolves_once_and_draws_on_the_cpu():
    resolved = Runtime.resolve("cpu", "float32", 5)
    assert (resolved.device, resolved.dtype) == (torch.device("cpu"), torch.float32)
    assert resolved.generator.device.type == "cpu"
    draws = randn((4, 2), generator=resolved.generator, device=resolved.device,
                  dtype=resolved.dtype)
    assert draws.shape == (4, 2) and draws.dtype == torch.float32
    # The same draws as float64 ones made with the same seed, rounded: the precision does
    # not change the random stream.
    reference = torch.randn(4, 2, generator=torch_generator(5), dtype=torch.float64)
    assert torch.equal(draws, reference.float())
    with nx.config.backends.gradopt(dtype="float32"):
        assert runtime(None, None, 0).dtype == torch.float32
        assert runtime(None, "float64", 0).dtype == torch.float64
