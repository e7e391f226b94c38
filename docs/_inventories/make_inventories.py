"""Write the small Sphinx inventories that intersphinx reads offline.

The docs build without network access (CI's rule), so intersphinx cannot download NetworkX's,
NumPy's, SciPy's and torch's ``objects.inv``. These hold just the objects our pages and
docstrings name, with the addresses each project publishes them at. Rerun after adding one:

    python docs/_inventories/make_inventories.py
"""

import pathlib
import zlib

# project -> [(name, role, path under the project's documentation root[, shown text])]; the
# glossary terms and the label are those numpydoc's default type aliases point to.
OBJECTS = {
    "python": [
        ("iterable", "std:term", "glossary.html#term-iterable", "-"),
        ("generator", "std:term", "glossary.html#term-generator", "-"),
        ("sequence", "std:term", "glossary.html#term-sequence", "-"),
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#boolean-values",
         "Boolean Values"),
    ],
    "networkx": [
        ("networkx.Graph", "py:class", "reference/classes/graph.html#networkx.Graph"),
        ("networkx.DiGraph", "py:class", "reference/classes/digraph.html#networkx.DiGraph"),
        ("networkx.algebraic_connectivity", "py:function",
         "reference/generated/networkx.linalg.algebraicconnectivity.algebraic_connectivity.html"),
        ("networkx.fiedler_vector", "py:function",
         "reference/generated/networkx.linalg.algebraicconnectivity.fiedler_vector.html"),
        ("networkx.approximation.one_exchange", "py:function",
         "reference/algorithms/generated/networkx.algorithms.approximation.maxcut."
         "one_exchange.html"),
        ("networkx.approximation.randomized_partitioning", "py:function",
         "reference/algorithms/generated/networkx.algorithms.approximation.maxcut."
         "randomized_partitioning.html"),
        ("networkx.cut_size", "py:function",
         "reference/algorithms/generated/networkx.algorithms.cuts.cut_size.html"),
        ("networkx.NetworkXError", "py:exception",
         "reference/exceptions.html#networkx.NetworkXError"),
        ("networkx.NetworkXNotImplemented", "py:exception",
         "reference/exceptions.html#networkx.NetworkXNotImplemented"),
        ("networkx.NetworkXPointlessConcept", "py:exception",
         "reference/exceptions.html#networkx.NetworkXPointlessConcept"),
    ],
    "numpy": [
        ("array_like", "std:term", "glossary.html#term-array_like", "-"),
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html"),
        ("numpy.random.Generator", "py:class",
         "reference/random/generator.html#numpy.random.Generator"),
    ],
    "scipy": [
        ("scipy.optimize.quadratic_assignment", "py:function",
         "reference/generated/scipy.optimize.quadratic_assignment.html"),
        ("scipy.optimize.linear_sum_assignment", "py:function",
         "reference/generated/scipy.optimize.linear_sum_assignment.html"),
        ("scipy.sparse.csr_matrix", "py:class",
         "reference/generated/scipy.sparse.csr_matrix.html"),
    ],
    "torch": [
        ("torch.Tensor", "py:class", "tensors.html#torch.Tensor"),
        ("torch.device", "py:class", "tensor_attributes.html#torch.device"),
        ("torch.dtype", "py:class", "tensor_attributes.html#torch.dtype"),
        ("torch.Generator", "py:class", "generated/torch.Generator.html"),
    ],
}


def write(project, objects, folder):
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: stable\n"
              "# The remainder of this file is compressed using zlib.\n")
    lines = []
    for name, role, path, *shown in objects:  # "-": shown as its name
        lines.append(f"{name} {role} 1 {path} {shown[0] if shown else '-'}\n")
    lines = "".join(lines)
    (folder / f"{project}.inv").write_bytes(header.encode() + zlib.compress(lines.encode()))


if __name__ == "__main__":
    here = pathlib.Path(__file__).parent
    for project, objects in OBJECTS.items():
        write(project, objects, here)
