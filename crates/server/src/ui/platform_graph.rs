//! Lays out a platform model's derived trust graph for SVG: one box per service, one
//! arrow per connection from the client to the server it trusts (the client trusts the
//! server's issuer; a mutual-TLS connection is drawn with a head at both ends, since the
//! server then trusts the client's issuer too).
//!
//! Services are placed in columns by the longest chain of connections leading to them
//! (clients left of the servers they call), each column sorted by name. A connection
//! that does not run left to right (a cycle, or two services in one column) is drawn as
//! a curve around the boxes, so every arrow stays visible.

use std::collections::BTreeMap;

/// A box's width in SVG user units.
const BOX_WIDTH: f64 = 190.0;
/// A box's height.
pub const BOX_HEIGHT: f64 = 46.0;
/// Room between columns, for the arrows.
const COLUMN_GAP: f64 = 90.0;
/// Room between boxes of a column.
const ROW_GAP: f64 = 22.0;
const MARGIN: f64 = 12.0;

/// A service to draw.
pub struct GraphService {
    /// Its name.
    pub name: String,
    /// The second line: node, issuer, status.
    pub summary: String,
    /// CSS class of its state (`state-ok`, `state-warning`, `state-expired`,
    /// `state-pending`).
    pub class: String,
}

/// A connection to draw.
pub struct GraphEdge {
    /// The client service.
    pub from: String,
    /// The server service.
    pub to: String,
    /// Mutual TLS.
    pub mtls: bool,
}

/// A service laid out.
pub struct PlacedService {
    /// The box's left edge.
    pub x: String,
    /// The box's top.
    pub y: String,
    /// The text's left edge.
    pub text_x: String,
    /// The first line's baseline.
    pub line1_y: String,
    /// The second line's baseline.
    pub line2_y: String,
    /// The name.
    pub name: String,
    /// The second line.
    pub summary: String,
    /// CSS class of its state.
    pub class: String,
}

/// A connection laid out.
pub struct PlacedEdge {
    /// SVG path data.
    pub path: String,
    /// Where its label goes.
    pub label_x: String,
    /// Where its label goes.
    pub label_y: String,
    /// `TLS` or `mTLS`.
    pub label: &'static str,
    /// Mutual TLS (a head at both ends).
    pub mtls: bool,
    /// In words, for the drawing's tooltips.
    pub title: String,
}

/// The whole drawing.
pub struct Layout {
    /// The boxes.
    pub services: Vec<PlacedService>,
    /// The arrows.
    pub edges: Vec<PlacedEdge>,
    /// The drawing's width.
    pub width: String,
    /// The drawing's height.
    pub height: String,
}

fn coord(value: f64) -> String {
    format!("{value:.1}")
}

/// The column of each service: 0 for a service no connection leads to, else one more
/// than the deepest client that connects to it. Bounded by the number of services, so a
/// cycle ends.
fn columns(services: &[GraphService], edges: &[GraphEdge]) -> BTreeMap<String, usize> {
    let mut column: BTreeMap<String, usize> =
        services.iter().map(|s| (s.name.clone(), 0)).collect();
    let limit = services.len().saturating_sub(1);
    for _ in 0..services.len() {
        let mut changed = false;
        for edge in edges {
            let (Some(&from), Some(&to)) = (column.get(&edge.from), column.get(&edge.to)) else {
                continue;
            };
            if edge.from != edge.to && to <= from && from < limit {
                column.insert(edge.to.clone(), from + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    column
}

/// Places the services and routes the arrows.
pub fn layout(services: Vec<GraphService>, edges: &[GraphEdge]) -> Layout {
    let column_of = columns(&services, edges);
    let mut by_column: BTreeMap<usize, Vec<GraphService>> = BTreeMap::new();
    for service in services {
        let column = column_of.get(&service.name).copied().unwrap_or(0);
        by_column.entry(column).or_default().push(service);
    }
    let mut placed = Vec::new();
    let mut position: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut tallest = 0usize;
    for (column, mut members) in by_column {
        members.sort_by(|a, b| a.name.cmp(&b.name));
        tallest = tallest.max(members.len());
        let x = MARGIN + column as f64 * (BOX_WIDTH + COLUMN_GAP);
        for (row, service) in members.into_iter().enumerate() {
            let y = MARGIN + row as f64 * (BOX_HEIGHT + ROW_GAP);
            position.insert(service.name.clone(), (x, y));
            placed.push(PlacedService {
                x: coord(x),
                y: coord(y),
                text_x: coord(x + 10.0),
                line1_y: coord(y + 19.0),
                line2_y: coord(y + 36.0),
                name: service.name,
                summary: service.summary,
                class: service.class,
            });
        }
    }
    let columns = column_of.values().max().map_or(1, |c| c + 1);
    let width = MARGIN * 2.0 + columns as f64 * BOX_WIDTH + (columns - 1) as f64 * COLUMN_GAP;
    let height = MARGIN * 2.0 + tallest.max(1) as f64 * (BOX_HEIGHT + ROW_GAP);
    let edges = edges
        .iter()
        .filter_map(|edge| {
            let from = position.get(&edge.from)?;
            let to = position.get(&edge.to)?;
            Some(route(*from, *to, edge))
        })
        .collect();
    Layout {
        services: placed,
        edges,
        width: coord(width),
        height: coord(height),
    }
}

/// One arrow: right side of the client to left side of the server when the server is
/// further right; otherwise a loop out of the right sides of both.
fn route((fx, fy): (f64, f64), (tx, ty): (f64, f64), edge: &GraphEdge) -> PlacedEdge {
    let from_y = fy + BOX_HEIGHT / 2.0;
    let to_y = ty + BOX_HEIGHT / 2.0;
    let (path, label_x, label_y) = if tx > fx {
        let start = fx + BOX_WIDTH;
        let bend = (tx - start) / 2.0;
        (
            format!(
                "M {} {} C {} {}, {} {}, {} {}",
                coord(start),
                coord(from_y),
                coord(start + bend),
                coord(from_y),
                coord(tx - bend),
                coord(to_y),
                coord(tx),
                coord(to_y)
            ),
            start + bend,
            (from_y + to_y) / 2.0 - 4.0,
        )
    } else {
        let right = fx.max(tx) + BOX_WIDTH;
        let reach = right + COLUMN_GAP * 0.6;
        (
            format!(
                "M {} {} C {} {}, {} {}, {} {}",
                coord(fx + BOX_WIDTH),
                coord(from_y),
                coord(reach),
                coord(from_y),
                coord(reach),
                coord(to_y),
                coord(tx + BOX_WIDTH),
                coord(to_y)
            ),
            right + COLUMN_GAP * 0.3,
            (from_y + to_y) / 2.0,
        )
    };
    let title = if edge.mtls {
        format!(
            "{} connects to {} with mutual TLS: each trusts the other's issuer",
            edge.from, edge.to
        )
    } else {
        format!(
            "{} connects to {}: {} trusts {}'s issuer",
            edge.from, edge.to, edge.from, edge.to
        )
    };
    PlacedEdge {
        path,
        label_x: coord(label_x),
        label_y: coord(label_y),
        label: if edge.mtls { "mTLS" } else { "TLS" },
        mtls: edge.mtls,
        title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str) -> GraphService {
        GraphService {
            name: name.into(),
            summary: String::new(),
            class: "state-ok".into(),
        }
    }

    fn edge(from: &str, to: &str, mtls: bool) -> GraphEdge {
        GraphEdge {
            from: from.into(),
            to: to.into(),
            mtls,
        }
    }

    #[test]
    fn clients_stand_left_of_the_servers_they_call() {
        let services = vec![service("db"), service("web"), service("browser")];
        let edges = [edge("browser", "web", false), edge("web", "db", true)];
        let columns = columns(&services, &edges);
        assert_eq!(columns["browser"], 0);
        assert_eq!(columns["web"], 1);
        assert_eq!(columns["db"], 2);
        let drawn = layout(services, &edges);
        assert_eq!(drawn.services.len(), 3);
        assert_eq!(drawn.edges.len(), 2);
        assert_eq!(drawn.edges[1].label, "mTLS");
        assert!(drawn.edges[0].title.contains("browser trusts web's issuer"));
    }

    #[test]
    fn a_cycle_ends_and_every_edge_is_still_drawn() {
        let services = vec![service("a"), service("b"), service("c")];
        let edges = [
            edge("a", "b", false),
            edge("b", "c", false),
            edge("c", "a", false),
        ];
        let columns = columns(&services, &edges);
        assert!(columns.values().all(|&c| c < 3), "{columns:?}");
        let drawn = layout(services, &edges);
        assert_eq!(drawn.edges.len(), 3);
        assert!(drawn.edges.iter().all(|e| e.path.starts_with("M ")));
    }

    #[test]
    fn an_edge_to_an_unknown_service_is_left_out() {
        let drawn = layout(vec![service("a")], &[edge("a", "ghost", false)]);
        assert!(drawn.edges.is_empty());
        assert_eq!(drawn.services.len(), 1);
    }
}
