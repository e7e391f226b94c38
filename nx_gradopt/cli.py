"""The nx-gradopt command: the package's solvers on the field's files.

    nx-gradopt maxcut G14 -t 10                 # Gset/rudy, edge list, GraphML or GML
    nx-gradopt qap tai12a.dat -o tai12a.sln     # QAPLIB
    nx-gradopt match G1.graphml G2.graphml -o mapping.csv
    nx-gradopt lambda2 network.edgelist --budget 100 -o weighted.graphml
    nx-gradopt demo                             # lambda_2 on a grid, with a plot

Results go to stdout (--json for one machine-readable line), progress to stderr (a status
line on a terminal, plain lines otherwise; --quiet for none). Exit codes: 0 success, 1 an
error in the input or the options (one line on stderr, no traceback), 2 a usage error,
130 Ctrl-C before any answer existed. Ctrl-C during a run prints the best answer found so far.
"""

import argparse
import csv
import json
import logging
import math
import pathlib
import shutil
import sys
import time
import warnings

import numpy as np

GRAPH_FORMATS = ("auto", "gset", "edgelist", "graphml", "gml")
EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class CommandError(Exception):
    """A problem with the input or the options, reported as one line."""


# ---------------------------------------------------------------------------- reading graphs


def read_graph(path, file_format="auto"):
    """A graph from ``path``: Gset/rudy, an edge list (``u v`` or ``u v weight`` per line,
    ``#`` comments; node labels as text), GraphML or GML. ``auto`` goes by the extension
    (``.graphml``, ``.gml``, ``.edgelist``, ``.edges``), then by the content: a first line of
    two integers followed by lines of three tokens is Gset."""
    import networkx as nx

    from . import io

    path = pathlib.Path(path)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    if file_format == "auto":
        file_format = {".graphml": "graphml", ".gml": "gml", ".edgelist": "edgelist",
                       ".edges": "edgelist"}.get(path.suffix.lower())
    if file_format is None:
        file_format = "gset" if _looks_like_gset(path) else "edgelist"
    readers = {"gset": io.read_gset, "graphml": nx.read_graphml, "gml": nx.read_gml,
               "edgelist": _read_edge_list}
    try:
        return readers[file_format](path)
    # SyntaxError: the XML parser's ParseError; KeyError and TypeError: NetworkX's GraphML and
    # GML readers on attributes they cannot type.
    except (ValueError, TypeError, KeyError, SyntaxError, UnicodeError,
            nx.NetworkXError) as error:
        where = "" if str(path) in str(error) else f"{path}: "
        raise CommandError(f"{where}not a valid {file_format} file: {error}") from None


def _looks_like_gset(path):
    """A first line of two integers followed by ``i j w`` lines (or by nothing: ``n 0``);
    an unweighted edge list's lines have two tokens throughout."""
    with open(path, encoding="ascii", errors="replace") as handle:
        lines = (line.split() for line in handle)
        lines = (tokens for tokens in lines if tokens and not tokens[0].startswith("#"))
        first, second = next(lines, None), next(lines, None)
    integers = first is not None and len(first) == 2 and all(
        token.lstrip("-").isdigit() for token in first
    )
    return integers and (second is None or len(second) == 3)


def _read_edge_list(path):
    """``u v`` or ``u v weight`` lines (whitespace separated, ``#`` comments); nodes are the
    labels as written (text), weights finite numbers; line numbers in every error."""
    import networkx as nx

    G = nx.Graph()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            tokens = line.split("#", 1)[0].split()
            if not tokens:
                continue
            if len(tokens) not in (2, 3):
                raise ValueError(f"line {number}: an edge line is 'u v' or 'u v weight'; "
                                 f"got {line.strip()!r}")
            if len(tokens) == 3:
                try:
                    weight = float(tokens[2])
                except ValueError:
                    weight = math.nan
                if not math.isfinite(weight):
                    raise ValueError(f"line {number}: the weight must be a finite number; "
                                     f"got {tokens[2]!r}")
                G.add_edge(tokens[0], tokens[1], weight=weight)
            else:
                G.add_edge(tokens[0], tokens[1])
    return G


def write_graph(G, path):
    """GraphML for ``.graphml``, GML for ``.gml``, else an edge list ``u v weight``."""
    import networkx as nx

    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        nx.write_graphml(G, path)
    elif suffix == ".gml":
        nx.write_gml(G, path, stringizer=str)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            for u, v, w in G.edges(data="weight", default=1.0):
                handle.write(f"{u} {v} {float(w)!r}\n")


# ------------------------------------------------------------------------------ subcommands


def run_maxcut(arguments):
    import networkx as nx

    import nx_gradopt  # noqa: F401  (installs the new functions)

    G = read_graph(arguments.file, arguments.format)
    _log_graph(arguments.file, G)
    solution = nx.max_cut_sdp_result(
        G, time_limit=arguments.time_limit, seed=arguments.seed, device=arguments.device,
    )
    S, T = solution.partition
    if arguments.output:
        with open(arguments.output, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["node", "side"])
            writer.writerows([(node, 0) for node in S] + [(node, 1) for node in T])
    result = {
        "cut_value": solution.cut_value, "upper_bound": solution.upper_bound,
        "relative_gap": solution.relative_gap,
        # NaN where the cycle relaxation proved the cut maximum before the SDP; JSON has no NaN.
        "sdp_value": None if math.isnan(solution.sdp_value) else solution.sdp_value,
        "sdp_certified": solution.sdp_certified, "bound_proof": solution.bound_proof,
        "time": solution.time, "nodes": len(G), "edges": G.number_of_edges(),
    }
    lines = [
        f"cut value       {solution.cut_value:.10g}",
        f"upper bound     {solution.upper_bound:.10g} (proof: {solution.bound_proof}; "
        f"relative gap {solution.relative_gap:.2e}; SDP certified: {solution.sdp_certified})",
        f"time            {solution.time:.2f} s",
    ]
    return result, lines


def run_qap(arguments):
    from . import io
    from .matching import quadratic_assignment

    A, B = io.read_qaplib(arguments.file)
    logging.getLogger("nx_gradopt").info("%s: n = %d", arguments.file, len(A))
    result = quadratic_assignment(
        A, B, method=arguments.method, maximize=arguments.maximize, n_init=arguments.n_init,
        time_limit=arguments.time_limit, seed=arguments.seed, device=arguments.device,
    )
    permutation = np.asarray(result.col_ind)
    if arguments.output:
        io.write_qaplib_solution(result.fun, permutation, arguments.output)
    summary = {
        "objective": result.fun, "permutation": (permutation + 1).tolist(), "n": len(A),
        "converged": result.converged, "time": result.time,
    }
    lines = [
        f"objective       {result.fun:.10g}",
        f"permutation     {' '.join(str(p + 1) for p in permutation)}   (1-based, as in .sln)",
        f"time            {result.time:.2f} s",
    ]
    return summary, lines


def run_match(arguments):
    import networkx as nx

    import nx_gradopt  # noqa: F401

    G1 = read_graph(arguments.graph1, arguments.format)
    G2 = read_graph(arguments.graph2, arguments.format)
    _log_graph(arguments.graph1, G1)
    _log_graph(arguments.graph2, G2)
    seeds = _read_pairs(arguments.seeds) if arguments.seeds else None
    solution = nx.graph_match_result(
        G1, G2, method=arguments.method, seeds=seeds, n_init=arguments.n_init,
        time_limit=arguments.time_limit, seed=arguments.seed, device=arguments.device,
    )
    mapping = solution.mapping
    if arguments.output:
        _write_mapping(mapping, arguments.output)
    # Edge correctness: the share of G1's edges mapped onto edges of G2 (the field's measure
    # of an alignment without ground truth).
    conserved = sum(
        1 for u, v in G1.edges() if u in mapping and v in mapping
        and G2.has_edge(mapping[u], mapping[v])
    )
    smaller = min(G1.number_of_edges(), G2.number_of_edges())
    correctness = conserved / smaller if smaller else 1.0
    summary = {
        "objective": solution.objective, "matched": len(mapping),
        "conserved_edges": conserved, "edge_correctness": correctness,
        "converged": solution.converged, "time": solution.time,
        "mapping": {str(u): str(v) for u, v in mapping.items()} if arguments.json else None,
    }
    lines = [
        f"matched nodes   {len(mapping)}",
        f"edges conserved {conserved} of {smaller} (edge correctness {correctness:.4f})",
        f"objective       {solution.objective:.10g}",
        f"time            {solution.time:.2f} s",
    ]
    if not arguments.output:
        lines.append("(write the mapping with -o mapping.csv or mapping.json)")
    return summary, lines


def run_lambda2(arguments):
    import networkx as nx

    import nx_gradopt  # noqa: F401

    G = read_graph(arguments.file, arguments.format)
    _log_graph(arguments.file, G)
    H = nx.optimize_algebraic_connectivity(
        G, arguments.budget, tol=arguments.tol, time_limit=arguments.time_limit,
        seed=arguments.seed, device=arguments.device,
    )
    if arguments.output:
        write_graph(H, arguments.output)
    info = H.graph
    summary = {key: info[key] for key in (
        "algebraic_connectivity", "upper_bound", "relative_gap", "iterations", "converged",
        "time",
    )}
    lines = [
        f"lambda_2        {info['algebraic_connectivity']:.10g}",
        f"upper bound     {info['upper_bound']:.10g} (certified; relative gap "
        f"{info['relative_gap']:.2e})",
        f"time            {info['time']:.2f} s ({info['iterations']} evaluations)",
    ]
    if not arguments.output:
        lines.append("(write the weighted graph with -o weighted.graphml or weighted.edgelist)")
    return summary, lines


def _read_pairs(path):
    """Seed pairs from a CSV file of two columns (a header line is allowed)."""
    pairs = []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) != 2:
                    raise CommandError(f"{path}: line {number}: a seed pair is two "
                                       f"comma-separated nodes; got {','.join(row)!r}")
                pairs.append((row[0].strip(), row[1].strip()))
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    if pairs and pairs[0] == ("node1", "node2"):
        pairs = pairs[1:]
    return pairs


def _write_mapping(mapping, path):
    path = pathlib.Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps({str(u): str(v) for u, v in mapping.items()}, indent=1))
        return
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["node1", "node2"])
        writer.writerows(mapping.items())


def _log_graph(path, G):
    logging.getLogger("nx_gradopt").info(
        "%s: %d nodes, %d edges", path, len(G), G.number_of_edges()
    )


# ------------------------------------------------------------------------------ the demo


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
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("  no plot: it needs matplotlib, the demo extra (pip install 'nx-gradopt[demo]')")
        return
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "optimised_grid.png"
    plot_grid_weights(G, H, path, f"grid {size}x{size}: λ₂ {uniform:.4f} → {lam2:.4f}")
    print(f"  plot written to {path}")


def plot_grid_weights(G, H, path, title):
    """The weighted grid (width and colour by weight) and the horizontal weight profile
    against Fiedler's optimum x (R - x), saved to ``path``."""
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


# ------------------------------------------------------------------------ progress on stderr


class ProgressHandler(logging.Handler):
    """The package's INFO lines on stderr. On a terminal: one status line rewritten in place,
    led by a bar of the time limit used when there is one; otherwise plain lines (a log file,
    a pipe, CI)."""

    BAR = 20

    def __init__(self, stream, time_limit=None):
        super().__init__(logging.INFO)
        self.stream = stream
        self.time_limit = time_limit
        self.start = time.perf_counter()
        self.terminal = hasattr(stream, "isatty") and stream.isatty()
        self.open_line = False

    def emit(self, record):
        try:
            message = self.format(record)
            if self.terminal:
                if self.time_limit:
                    used = min(1.0, (time.perf_counter() - self.start) / self.time_limit)
                    filled = round(used * self.BAR)
                    message = f"[{'#' * filled}{'.' * (self.BAR - filled)}] {message}"
                width = shutil.get_terminal_size().columns - 1
                self.stream.write("\r" + message[:width].ljust(width))
                self.open_line = True
            else:
                self.stream.write(message + "\n")
            self.stream.flush()
        except Exception:  # a logging handler never raises into the solver
            self.handleError(record)

    def finish(self):
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line on stderr, without the source line."""
    sys.stderr.write(f"nx-gradopt: {category.__name__}: {message}\n")


# ---------------------------------------------------------------------------------- parser


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="nx-gradopt", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'nx-gradopt COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"nx-gradopt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub, *, seed=True):
        sub.add_argument("-t", "--time-limit", type=_positive, metavar="SECONDS",
                         help="stop after about this many seconds with the best answer")
        if seed:
            sub.add_argument("--seed", type=int, default=0,
                             help="random seed (default 0: runs repeat)")
        sub.add_argument("--device", default=None,
                         help="auto (default: CUDA when available), cpu, cuda or cuda:N")
        sub.add_argument("--json", action="store_true",
                         help="print the result as one JSON line on stdout")
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    def graph_format(sub):
        sub.add_argument("--format", choices=GRAPH_FORMATS, default="auto",
                         help="file format (default: by extension, then by content)")

    sub = commands.add_parser(
        "maxcut", help="max-cut of a graph, with a certified upper bound",
        description="Max-cut by the SDP relaxation (Burer-Monteiro) and breakout local "
        "search, with a certified upper bound.",
    )
    sub.add_argument("file", help="Gset/rudy file, edge list, GraphML or GML")
    graph_format(sub)
    sub.add_argument("-o", "--output", metavar="CSV", help="write the partition: node,side")
    common(sub)
    sub.set_defaults(run=run_maxcut)

    sub = commands.add_parser(
        "qap", help="quadratic assignment of a QAPLIB file",
        description="Quadratic assignment (minimise sum A_ij B_p(i)p(j)) of a QAPLIB .dat file.",
    )
    sub.add_argument("file", help="QAPLIB .dat file")
    sub.add_argument("--method", choices=("faq", "goat", "2opt"), default="faq",
                     help="default faq (the better QAP heuristic)")
    sub.add_argument("--n-init", type=_integer_at_least(1), default=10, help="starts (default 10)")
    sub.add_argument("--maximize", action="store_true", help="maximise instead")
    sub.add_argument("-o", "--output", metavar="SLN", help="write the answer as a .sln file")
    common(sub)
    sub.set_defaults(run=run_qap)

    sub = commands.add_parser(
        "match", help="align two networks",
        description="Align two networks: a one-to-one node mapping that maximises the "
        "number (weight) of matched edges.",
    )
    sub.add_argument("graph1", help="edge list, GraphML or GML")
    sub.add_argument("graph2", help="edge list, GraphML or GML")
    graph_format(sub)
    sub.add_argument("--method", choices=("goat", "faq"), default="goat", help="default goat")
    sub.add_argument("--seeds", metavar="CSV", help="known pairs: node1,node2 per line")
    sub.add_argument("--n-init", type=_integer_at_least(1), default=1, help="starts (default 1)")
    sub.add_argument("-o", "--output", metavar="CSV|JSON",
                     help="write the mapping (.json: an object; else CSV node1,node2)")
    common(sub)
    sub.set_defaults(run=run_match)

    sub = commands.add_parser(
        "lambda2", help="spread an edge-weight budget to maximise lambda_2",
        description="Spread an edge-weight budget over a graph's edges to maximise its "
        "algebraic connectivity, with a certified upper bound.",
    )
    sub.add_argument("file", help="edge list, Gset/rudy, GraphML or GML")
    graph_format(sub)
    sub.add_argument("--budget", type=_positive, required=True, help="total edge weight")
    sub.add_argument("--tol", type=_positive, default=1e-3,
                     help="certified relative gap to stop at (default 1e-3)")
    sub.add_argument("-o", "--output", metavar="GRAPH",
                     help="write the weighted graph (.graphml, .gml, else an edge list)")
    common(sub)
    sub.set_defaults(run=run_lambda2)

    sub = commands.add_parser(
        "demo", help="optimise lambda_2 on a grid and plot it",
        description="GradNet's example: lambda_2 on a grid against the exact optimum.",
    )
    sub.add_argument("--output", default="demo_output", help="folder for the plot")
    sub.add_argument("--size", type=_integer_at_least(2), default=30,
                     help="grid side (default 30, GradNet's example)")
    sub.set_defaults(run=None)
    return parser


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


def _integer_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}")
        return value

    return parse


def main(argv=None):
    arguments = build_parser().parse_args(argv)
    if arguments.command == "demo":
        demo(arguments.output, arguments.size)
        return 0
    import networkx as nx

    logger = logging.getLogger("nx_gradopt")
    handler = ProgressHandler(sys.stderr, arguments.time_limit)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    if not arguments.quiet:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            result, lines = arguments.run(arguments)
        # The package's errors name the argument and the value; NetworkX's say what the graph
        # lacks (directed, empty...); OSError: an output file that cannot be written.
        except (CommandError, ValueError, OSError, nx.NetworkXException) as error:
            handler.finish()
            if isinstance(error, OSError) and error.filename:
                error = f"{error.filename}: {error.strerror}"
            print(f"nx-gradopt {arguments.command}: error: {error}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:  # before any answer existed (the solvers catch it after)
            handler.finish()
            print(f"nx-gradopt {arguments.command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            handler.finish()
            logger.removeHandler(handler)
            logger.setLevel(level)
    if arguments.json:
        print(json.dumps({key: value for key, value in result.items() if value is not None},
                         default=float))
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
