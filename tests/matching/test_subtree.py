"""The sub-tree similarity against a plain-Python greedy matching, and its invariances."""

import time

import numpy as np
import pytest
import scipy.sparse as sp

from nx_gradopt.matching import subtree


def _pattern(matrix):
    """Neighbour lists of the undirected simple graph on ``matrix``'s nonzeros."""
    dense = np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix) != 0
    dense = dense | dense.T
    np.fill_diagonal(dense, False)
    return [np.flatnonzero(row) for row in dense]


def _reference_level(A, B, previous):
    """Per pair (i, j): match i's neighbours to j's greedily, heaviest pair first, each
    weighing its previous score where positive; the sum of the matched weights."""
    na, nb = _pattern(A), _pattern(B)
    out = np.zeros((len(na), len(nb)))
    for i, left in enumerate(na):
        for j, right in enumerate(nb):
            out[i, j] = _greedy_matching(left, right, lambda a, b: previous[a, b])
    return out


def _greedy_matching(left, right, weight):
    """The greedy maximum-weight matching of ``left`` to ``right``, heaviest pair first, over
    the pairs of positive ``weight(a, b)``: the sum of the matched weights."""
    pairs = sorted(
        ((weight(a, b), a, b) for a in left for b in right if weight(a, b) > 0), reverse=True,
    )
    used_a, used_b, total = set(), set(), 0.0
    for value, a, b in pairs:
        if a not in used_a and b not in used_b:
            used_a.add(a)
            used_b.add(b)
            total += value
    return total


def _random_graph(rng, n, p):
    upper = np.triu(rng.random((n, n)) < p, 1)
    return (upper | upper.T).astype(float)


def test_a_level_is_the_greedy_matching_of_the_neighbours():
    rng = np.random.default_rng(0)
    # Each edge in one direction only, with weights, and a self-loop (not a neighbour): the
    # undirected pattern is what counts.
    A = np.tril(_random_graph(rng, 14, 0.35), -1) * rng.uniform(0.5, 4.0, (14, 14))
    A[2, 2] = 1.0
    B = sp.csr_array(_random_graph(rng, 11, 0.4))
    previous = rng.standard_normal((14, 11))
    indptr_a, indices_a = subtree.neighbours(A)
    indptr_b, indices_b = subtree.neighbours(B)
    out = np.empty_like(previous)
    subtree._level(indptr_a, indices_a, indptr_b, indices_b, previous, out)
    np.testing.assert_allclose(out, _reference_level(A, B, previous), rtol=1e-12)


def test_depth_one_is_the_larger_common_star_standardised():
    rng = np.random.default_rng(1)
    A, B = _random_graph(rng, 9, 0.4), _random_graph(rng, 7, 0.5)
    scores = subtree.subtree_similarity(A, B, 1)
    star = np.minimum.outer(A.sum(axis=1), B.sum(axis=1))
    centred = star - star.mean(axis=1, keepdims=True) - star.mean(axis=0) + star.mean()
    np.testing.assert_allclose(scores, centred / centred.std(), atol=1e-12)


def test_the_scores_follow_a_relabelling_of_either_graph():
    rng = np.random.default_rng(2)
    A, B = _random_graph(rng, 30, 0.15), _random_graph(rng, 30, 0.15)
    order = rng.permutation(30)
    scores = subtree.subtree_similarity(A, B, 4)
    np.testing.assert_allclose(
        subtree.subtree_similarity(A, B[np.ix_(order, order)], 4), scores[:, order],
        atol=1e-9,
    )
    np.testing.assert_allclose(
        subtree.subtree_similarity(A[np.ix_(order, order)], B, 4), scores[order], atol=1e-9,
    )


def test_the_scores_rank_the_true_partners_first_on_an_isomorphic_copy():
    # The planted relabelling is the reference: on a copy, every node's own neighbourhood
    # tree maps into its image completely, and the linear assignment of the scores finds
    # the relabelling for all but a few nodes.
    rng = np.random.default_rng(3)
    A = _random_graph(rng, 120, 0.05)
    truth = rng.permutation(120)
    B = np.empty_like(A)
    B[np.ix_(truth, truth)] = A
    from scipy.optimize import linear_sum_assignment

    _, cols = linear_sum_assignment(subtree.subtree_similarity(A, B, 6), maximize=True)
    assert np.mean(cols == truth) >= 0.9


def test_a_passed_deadline_returns_no_scores_and_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    A = sp.csr_array(_random_graph(rng, 20, 0.2))
    B = _random_graph(rng, 20, 0.2)
    copies = A.copy(), B.copy()
    assert subtree.subtree_similarity(A, B, 3, deadline=time.perf_counter() - 1) is None
    subtree.subtree_similarity(A, B, 3)
    assert (A != copies[0]).nnz == 0
    np.testing.assert_array_equal(B, copies[1])


def test_a_level_that_would_end_past_the_deadline_does_not_start(monkeypatch):
    # Levels of 0.2 s and a deadline 0.3 s away: the first runs, the second would end at
    # 0.4 s and does not start (checking only whether the deadline had passed ran it).
    rng = np.random.default_rng(4)
    A, B = _random_graph(rng, 20, 0.2), _random_graph(rng, 20, 0.2)
    subtree.load_compiled()  # a first compilation is no level
    levels = []

    def slow_level(*arrays):
        time.sleep(0.2)
        levels.append(arrays[-1].shape)
        arrays[-1][:] = 1.0

    monkeypatch.setattr(subtree, "_run_level", slow_level)
    started = time.perf_counter()
    assert subtree.subtree_similarity(A, B, 4, deadline=started + 0.3) is None
    assert len(levels) == 1 and time.perf_counter() - started < 0.3
    levels.clear()
    assert subtree.subtree_similarity(A, B, 4, deadline=time.perf_counter() + 5.0) is not None
    assert len(levels) == 3


def test_a_level_costs_the_product_of_the_edge_ends_and_hubs_too_large_are_unaffordable():
    rng = np.random.default_rng(5)
    A, B = _random_graph(rng, 25, 0.2), _random_graph(rng, 25, 0.3)
    assert subtree.level_work(A, B) == A.sum() * B.sum()
    star = np.zeros((1026, 1026))  # a hub of degree 1025: 1025^2 > 2^20 pairs to index
    star[0, 1:] = star[1:, 0] = 1.0
    assert subtree.level_work(star, star) == float("inf")
    with pytest.raises(ValueError, match="more than 1048576 pairs"):
        subtree.subtree_similarity(star, star, 2)
    assert subtree.level_work(np.zeros((3, 3)), B) == 0.0


def _reference_edge_children(A):
    """The directed edges of the undirected pattern of ``A``, and for each edge u -> v the
    edges v -> c with c != u, by brute force."""
    pattern = _pattern(A)
    edges = [(u, v) for u, row in enumerate(pattern) for v in row]
    return edges, [[(v, c) for c in pattern[v] if c != u] for u, v in edges]


def test_the_non_backtracking_children_of_an_edge_continue_it_without_turning_back():
    rng = np.random.default_rng(6)
    A = np.tril(_random_graph(rng, 16, 0.3), -1) * rng.uniform(0.5, 4.0, (16, 16))
    A[3, 3] = 2.0  # a self-loop is no edge
    edges, children = _reference_edge_children(A)
    indptr, indices = subtree.edge_children(*subtree.neighbours(A))
    # Edges are numbered by their place in the CSR pattern: by tail, then by head.
    assert len(indptr) == len(edges) + 1
    for number, expected in enumerate(children):
        got = [edges[f] for f in indices[indptr[number]:indptr[number + 1]]]
        assert got == expected


def test_a_non_backtracking_level_is_the_greedy_matching_of_the_edges_that_continue():
    rng = np.random.default_rng(7)
    A, B = _random_graph(rng, 12, 0.35), sp.csr_array(_random_graph(rng, 10, 0.4))
    edges_a, children_a = _reference_edge_children(A)
    edges_b, children_b = _reference_edge_children(B)
    previous = rng.standard_normal((len(edges_a), len(edges_b)))
    index_a = {edge: k for k, edge in enumerate(edges_a)}
    index_b = {edge: k for k, edge in enumerate(edges_b)}
    expected = np.zeros_like(previous)
    for e, left in enumerate(children_a):
        for f, right in enumerate(children_b):
            expected[e, f] = _greedy_matching(
                left, right, lambda x, y: previous[index_a[x], index_b[y]],
            )
    out = np.empty_like(previous)
    items_a = subtree.edge_children(*subtree.neighbours(A))
    items_b = subtree.edge_children(*subtree.neighbours(B))
    subtree._level(*items_a, *items_b, previous, out)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_non_backtracking_trees_of_depth_two_match_each_nodes_edges_by_their_branches():
    # Depth 2: an edge u -> v scores min(d_v - 1, d_v' - 1) (the branches below it),
    # standardised; a node pair then matches its edges greedily by those scores.
    rng = np.random.default_rng(8)
    A, B = _random_graph(rng, 9, 0.45), _random_graph(rng, 8, 0.5)
    edges_a, children_a = _reference_edge_children(A)
    edges_b, children_b = _reference_edge_children(B)
    branches = np.minimum.outer([len(c) for c in children_a], [len(c) for c in children_b])
    branches = branches - branches.mean(axis=1, keepdims=True)
    branches = branches - branches.mean(axis=0, keepdims=True)
    branches = branches / branches.std()
    out = np.empty((9, 8))
    indptr_a, _ = subtree.neighbours(A)
    indptr_b, _ = subtree.neighbours(B)
    subtree._level(indptr_a, np.arange(len(edges_a)), indptr_b, np.arange(len(edges_b)),
                   branches, out)
    out -= out.mean(axis=1, keepdims=True)
    out -= out.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(
        subtree.subtree_similarity(A, B, 2, nonbacktracking=True), out / out.std(),
        atol=1e-12,
    )
    # Depth 1 has no edges to walk: the larger common star, as for node trees.
    np.testing.assert_array_equal(
        subtree.subtree_similarity(A, B, 1, nonbacktracking=True),
        subtree.subtree_similarity(A, B, 1),
    )


def test_non_backtracking_scores_follow_a_relabelling_and_rank_a_copys_partners_first():
    rng = np.random.default_rng(2)
    A, B = _random_graph(rng, 30, 0.15), _random_graph(rng, 30, 0.15)
    order = rng.permutation(30)
    scores = subtree.subtree_similarity(A, B, 4, nonbacktracking=True)
    np.testing.assert_allclose(
        subtree.subtree_similarity(A, B[np.ix_(order, order)], 4, nonbacktracking=True),
        scores[:, order], atol=1e-9,
    )
    np.testing.assert_allclose(
        subtree.subtree_similarity(A[np.ix_(order, order)], B, 4, nonbacktracking=True),
        scores[order], atol=1e-9,
    )
    from scipy.optimize import linear_sum_assignment

    A = _random_graph(rng, 120, 0.05)
    truth = rng.permutation(120)
    B = np.empty_like(A)
    B[np.ix_(truth, truth)] = A
    similarity = subtree.subtree_similarity(A, B, 6, nonbacktracking=True)
    _, cols = linear_sum_assignment(similarity, maximize=True)
    assert np.mean(cols == truth) >= 0.9


def test_a_non_backtracking_level_costs_the_products_of_the_walks_of_length_two():
    rng = np.random.default_rng(5)
    A, B = _random_graph(rng, 25, 0.2), _random_graph(rng, 25, 0.3)
    degrees_a, degrees_b = A.sum(axis=1), B.sum(axis=1)
    assert subtree.level_work(A, B, nonbacktracking=True) == (
        (degrees_a * (degrees_a - 1)).sum() * (degrees_b * (degrees_b - 1)).sum()
    )
    assert subtree.edge_pairs(A, B) == A.sum() * B.sum()
