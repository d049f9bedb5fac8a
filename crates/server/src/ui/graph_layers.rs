//! The layered order of a directed graph, for drawing it left to right: services that
//! reach each other (a cycle, such as a cluster whose nodes call one another) share a
//! layer; otherwise every connection runs from a layer to a later one, each service in
//! the layer after its deepest client. Within a layer, services sit near the services
//! they connect to (the mean row of their neighbours in earlier layers), members of one
//! cycle together.

use std::collections::BTreeMap;

/// Where each node goes: `(layer, row)` by node index.
pub type Placement = Vec<(usize, usize)>;

/// Which nodes reach each other: a component id per node (the smallest index of its
/// strongly connected component). `edges` are `(from, to)` indices.
fn components(count: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(from, to) in edges {
        next[from].push(to);
    }
    let reach: Vec<Vec<bool>> = (0..count)
        .map(|start| {
            let mut seen = vec![false; count];
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(node) = stack.pop() {
                for &to in &next[node] {
                    if !seen[to] {
                        seen[to] = true;
                        stack.push(to);
                    }
                }
            }
            seen
        })
        .collect();
    (0..count)
        .map(|node| {
            (0..=node)
                .find(|&other| reach[node][other] && reach[other][node])
                .unwrap_or(node)
        })
        .collect()
}

/// Lays out `count` nodes named `names` (for a stable order) joined by `edges`.
pub fn place(names: &[String], edges: &[(usize, usize)]) -> Placement {
    let count = names.len();
    let component = components(count, edges);
    // Longest path over the components' graph, which has no cycle: at most `count`
    // rounds of relaxation.
    let mut layer = vec![0usize; count];
    for _ in 0..count {
        let mut changed = false;
        for &(from, to) in edges {
            if component[from] != component[to] && layer[to] <= layer[from] {
                layer[to] = layer[from] + 1;
                changed = true;
            }
        }
        // A component's members share its deepest member's layer.
        for node in 0..count {
            let root = component[node];
            if layer[node] > layer[root] {
                layer[root] = layer[node];
                changed = true;
            }
        }
        for node in 0..count {
            let shared = layer[component[node]];
            if layer[node] != shared {
                layer[node] = shared;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut by_layer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (node, &at) in layer.iter().enumerate() {
        by_layer.entry(at).or_default().push(node);
    }
    let mut row = vec![0usize; count];
    for members in by_layer.values_mut() {
        // The mean row of neighbours already placed (earlier layers), per component.
        let mut weight: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        for &(a, b) in edges {
            for (node, other) in [(a, b), (b, a)] {
                if layer[other] < layer[node] {
                    let entry = weight.entry(component[node]).or_insert((0.0, 0.0));
                    entry.0 += row[other] as f64;
                    entry.1 += 1.0;
                }
            }
        }
        let key = |node: usize| {
            weight
                .get(&component[node])
                .map_or(f64::MAX, |(sum, n)| sum / n)
        };
        members.sort_by(|&a, &b| {
            key(a)
                .total_cmp(&key(b))
                .then(names[component[a]].cmp(&names[component[b]]))
                .then(names[a].cmp(&names[b]))
        });
        for (index, &node) in members.iter().enumerate() {
            row[node] = index;
        }
    }
    (0..count).map(|node| (layer[node], row[node])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_chain_runs_left_to_right() {
        let placed = place(&names(&["browser", "web", "db"]), &[(0, 1), (1, 2)]);
        assert_eq!(placed, [(0, 0), (1, 0), (2, 0)]);
    }

    #[test]
    fn a_cluster_shares_one_layer_after_its_clients() {
        // Two clients calling a three-node cluster whose nodes call each other, and a
        // pair of nodes calling each other that nobody calls.
        let list = names(&["c1", "c2", "c3", "web1", "web2", "t1", "t2"]);
        let edges = [
            (3, 0),
            (4, 1),
            (0, 1),
            (1, 0),
            (1, 2),
            (2, 1),
            (0, 2),
            (2, 0),
            (5, 6),
            (6, 5),
        ];
        let placed = place(&list, &edges);
        for cluster in 0..3 {
            assert_eq!(placed[cluster].0, 1, "{placed:?}");
        }
        assert_eq!(placed[3].0, 0);
        assert_eq!(placed[4].0, 0);
        assert_eq!(placed[5].0, placed[6].0);
        let layers = placed.iter().map(|p| p.0).max().unwrap();
        assert_eq!(layers, 1, "{placed:?}");
    }
}
