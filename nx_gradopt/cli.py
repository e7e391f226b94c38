"""The ``nx-gradopt`` command: ``nx-gradopt demo`` runs the main job and writes a plot."""

import argparse
import pathlib
import sys
import time


def demo(output, size):
    """GradNet's example: optimise lambda_2 on a grid, compare with uniform weights and the
    exact optimum, plot the weighted grid and the horizontal weight profile against x (R - x)."""
    import networkx as nx

    import nx_gradopt  # noqa: F401  (installs the new functions if the early route is off)

    G = nx.grid_2d_graph(size, size)
    budget = float(G.number_of_edges())
    # Computed first, it also loads torch and SciPy (2 s), which the timing below leaves out.
    uniform = nx.algebraic_connectivity(G, backend="gradopt")  # every edge weight 1
    start = time.perf_counter()
    H = nx.optimize_algebraic_connectivity(G, budget, seed=0)
    elapsed = time.perf_counter() - start
    optimum = 6.0 / (size * size * (size * size - 1)) * budget  # Fiedler's grid optimum
    lam2 = H.graph["algebraic_connectivity"]
    print(f"grid {size}x{size}: {len(G)} nodes, {G.number_of_edges()} edges, budget {budget:g}")
    print(f"  uniform weights     lambda_2 = {uniform:.6f}")
    print(f"  optimised weights   lambda_2 = {lam2:.6f}   ({elapsed:.2f} s, "
          f"{H.graph['iterations']} iterations)")
    print(f"  certified bound     lambda_2 <= {H.graph['upper_bound']:.6f}   "
          f"(relative gap {H.graph['relative_gap']:.2e})")
    print(f"  exact optimum       lambda_2 = {optimum:.6f}   "
          f"(reached {lam2 / optimum:.4%}; uniform {uniform / optimum:.2%})")
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "optimised_grid.png"
    _plot(G, H, path, f"grid {size}x{size}: λ₂ {uniform:.4f} → {lam2:.4f}")
    print(f"  plot written to {path}")


def _plot(G, H, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    positions = {node: node for node in G}
    weights = [H.edges[e]["weight"] for e in H.edges()]
    largest = max(weights)
    figure, (axis, profile) = plt.subplots(1, 2, figsize=(12, 6))
    nx.draw_networkx_edges(
        H, positions, ax=axis, width=[0.3 + 5 * w / largest for w in weights],
        edge_color=weights, edge_cmap=plt.cm.viridis,
    )
    nx.draw_networkx_nodes(H, positions, ax=axis, node_size=12, node_color="black")
    axis.set_title(title + "\nedge width and colour: optimised weight")
    axis.set_axis_off()
    # Fiedler's optimum: the weight between columns x - 1 and x is proportional to x (R - x).
    size = 1 + max(node[0] for node in G)
    columns, mean_weight = [], []
    for x in range(1, size):
        row = [H.edges[(x - 1, y), (x, y)]["weight"] for y in range(size)]
        columns.append(x)
        mean_weight.append(sum(row) / len(row))
    exact = [x * (size - x) for x in columns]
    factor = sum(mean_weight) / sum(exact)
    profile.plot(columns, mean_weight, "o", label="optimised (mean over rows)")
    profile.plot(columns, [factor * e for e in exact], "-", label="x (R - x), scaled")
    profile.set_xlabel("column x of the edge ((x - 1, y), (x, y))")
    profile.set_ylabel("horizontal edge weight")
    profile.set_title("horizontal weight profile")
    profile.legend()
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nx-gradopt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="optimise lambda_2 on a grid and plot it")
    demo_parser.add_argument("--output", default="demo_output", help="folder for the plot")
    demo_parser.add_argument("--size", type=int, default=30, help="grid side (default 30, GradNet's example)")
    arguments = parser.parse_args(argv)
    if arguments.size < 2:
        parser.error(f"--size must be at least 2; got {arguments.size}")
    demo(arguments.output, arguments.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
