//! Lays out a platform model's derived trust graph for SVG: one box per service, one
//! arrow per connection from the client to the server it trusts (the client trusts the
//! server's issuer; a mutual-TLS connection is drawn with a head at both ends, since the
//! server then trusts the client's issuer too, and so is a pair of services calling each
//! other, drawn once).
//!
//! Services stand in layers ([`super::graph_layers`]): clients left of the servers they
//! call, services that call each other (a cluster) in one layer, stacked. An arrow
//! between layers runs from the client's right side to the server's left side; an arrow
//! inside a layer loops out to the right of the boxes. The drawing's size is the extent
//! of everything drawn (boxes, curves with their control points, labels) plus a margin,
//! so nothing leaves the frame; the page shows it at its own size (labels at 13 and 12
//! px), and its script zooms and pans.

use super::graph_layers::place;
use std::collections::BTreeMap;

/// The narrowest box, in SVG user units (pixels at the drawing's own size).
const MIN_BOX_WIDTH: f64 = 180.0;
/// The widest box; longer second lines are cut with an ellipsis (the tooltip has all).
const MAX_BOX_WIDTH: f64 = 300.0;
/// A box's height.
pub const BOX_HEIGHT: f64 = 46.0;
/// Room between layers, for the arrows and the loops of arrows inside a layer.
const COLUMN_GAP: f64 = 110.0;
/// Room between boxes of a layer.
const ROW_GAP: f64 = 22.0;
const MARGIN: f64 = 16.0;
/// Rough advance of one character of a service's name (13 px, bold).
const NAME_CHAR: f64 = 8.0;
/// Rough advance of one character of the second line (12 px).
const SUMMARY_CHAR: f64 = 7.0;
/// Room left and right of a box's text.
const TEXT_PAD: f64 = 10.0;

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
    /// The second line, cut to the box.
    pub summary: String,
    /// The whole second line, for the tooltip.
    pub full_summary: String,
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
    /// A head at both ends (mutual TLS, or two services calling each other).
    pub both_ends: bool,
    /// Mutual TLS.
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
    /// The width of every box.
    pub box_width: String,
    /// The drawing's width.
    pub width: String,
    /// The drawing's height.
    pub height: String,
}

fn coord(value: f64) -> String {
    format!("{value:.1}")
}

/// `text` cut to `room` units at `advance` per character, with an ellipsis when cut.
fn fit(text: &str, room: f64, advance: f64) -> String {
    let fits = (room / advance).floor().max(1.0) as usize;
    if text.chars().count() <= fits {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(fits.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// One connection between two services, both directions merged.
struct Link {
    from: usize,
    to: usize,
    mtls: bool,
    both_ways: bool,
}

/// The connections as links: a pair of services calling each other is one link.
fn links(edges: &[GraphEdge], index: &BTreeMap<&str, usize>) -> Vec<Link> {
    let mut merged: BTreeMap<(usize, usize), Link> = BTreeMap::new();
    for edge in edges {
        let (Some(&from), Some(&to)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
        else {
            continue;
        };
        if from == to {
            continue;
        }
        let key = (from.min(to), from.max(to));
        match merged.get_mut(&key) {
            Some(link) => {
                link.both_ways |= link.from != from;
                link.mtls |= edge.mtls;
            }
            None => {
                merged.insert(
                    key,
                    Link {
                        from,
                        to,
                        mtls: edge.mtls,
                        both_ways: false,
                    },
                );
            }
        }
    }
    merged.into_values().collect()
}

/// The extent of what is drawn, grown point by point.
struct Extent {
    right: f64,
    bottom: f64,
}

impl Extent {
    fn take(&mut self, x: f64, y: f64) {
        self.right = self.right.max(x);
        self.bottom = self.bottom.max(y);
    }
}

/// Places the services and routes the arrows.
pub fn layout(services: Vec<GraphService>, edges: &[GraphEdge]) -> Layout {
    let names: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let links = links(edges, &index);
    let pairs: Vec<(usize, usize)> = links
        .iter()
        .flat_map(|l| {
            let back = l.both_ways.then_some((l.to, l.from));
            std::iter::once((l.from, l.to)).chain(back)
        })
        .collect();
    let placement = place(&names, &pairs);
    let longest = services
        .iter()
        .map(|s| {
            (s.name.chars().count() as f64 * NAME_CHAR)
                .max(s.summary.chars().count() as f64 * SUMMARY_CHAR)
        })
        .fold(0.0, f64::max);
    let box_width = (longest + 2.0 * TEXT_PAD).clamp(MIN_BOX_WIDTH, MAX_BOX_WIDTH);
    let mut height_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &(layer, row) in &placement {
        let tallest = height_of.entry(layer).or_default();
        *tallest = (*tallest).max(row + 1);
    }
    let tallest = height_of.values().copied().max().unwrap_or(1);
    let pitch = BOX_HEIGHT + ROW_GAP;
    let position: Vec<(f64, f64)> = placement
        .iter()
        .map(|&(layer, row)| {
            // Shorter layers are centred beside the tallest.
            let rows = height_of.get(&layer).copied().unwrap_or(1);
            let offset = (tallest - rows) as f64 * pitch / 2.0;
            (
                MARGIN + layer as f64 * (box_width + COLUMN_GAP),
                MARGIN + offset + row as f64 * pitch,
            )
        })
        .collect();
    let mut extent = Extent {
        right: 0.0,
        bottom: 0.0,
    };
    let placed = services
        .into_iter()
        .zip(&position)
        .map(|(service, &(x, y))| {
            extent.take(x + box_width, y + BOX_HEIGHT);
            PlacedService {
                x: coord(x),
                y: coord(y),
                text_x: coord(x + TEXT_PAD),
                line1_y: coord(y + 19.0),
                line2_y: coord(y + 37.0),
                summary: fit(&service.summary, box_width - 2.0 * TEXT_PAD, SUMMARY_CHAR),
                name: service.name,
                full_summary: service.summary,
                class: service.class,
            }
        })
        .collect();
    let edges = links
        .iter()
        .map(|link| {
            let edge = route(
                position[link.from],
                position[link.to],
                box_width,
                &mut extent,
            );
            described(edge, link, &names)
        })
        .collect();
    Layout {
        services: placed,
        edges,
        box_width: coord(box_width),
        width: coord(extent.right + MARGIN),
        height: coord(extent.bottom + MARGIN),
    }
}

/// The path and label place of one arrow; `extent` takes in its control points.
fn route(
    (fx, fy): (f64, f64),
    (tx, ty): (f64, f64),
    box_width: f64,
    extent: &mut Extent,
) -> (String, f64, f64) {
    let from_y = fy + BOX_HEIGHT / 2.0;
    let to_y = ty + BOX_HEIGHT / 2.0;
    let points = if (tx - fx).abs() > 1.0 {
        // Between layers: leave the right side of the left box, enter the other's left.
        let (left, right) = if tx > fx {
            ((fx + box_width, from_y), (tx, to_y))
        } else {
            ((fx, from_y), (tx + box_width, to_y))
        };
        let bend = (right.0 - left.0) / 2.0;
        [
            left,
            (left.0 + bend, left.1),
            (right.0 - bend, right.1),
            right,
        ]
    } else {
        // In one layer: a loop out of the right sides, wider for rows further apart.
        let side = fx + box_width;
        let reach = side + (24.0 + (to_y - from_y).abs() * 0.25).min(COLUMN_GAP * 0.7);
        [(side, from_y), (reach, from_y), (reach, to_y), (side, to_y)]
    };
    for &(x, y) in &points {
        extent.take(x, y);
    }
    let path = format!(
        "M {} {} C {} {}, {} {}, {} {}",
        coord(points[0].0),
        coord(points[0].1),
        coord(points[1].0),
        coord(points[1].1),
        coord(points[2].0),
        coord(points[2].1),
        coord(points[3].0),
        coord(points[3].1)
    );
    // The label sits on the curve's middle (for a cubic, 1/8, 3/8, 3/8, 1/8).
    let label_x = (points[0].0 + 3.0 * points[1].0 + 3.0 * points[2].0 + points[3].0) / 8.0;
    let label_y = (points[0].1 + 3.0 * points[1].1 + 3.0 * points[2].1 + points[3].1) / 8.0;
    // A label is at most "mTLS", about 36 units wide at 12 px.
    extent.take(label_x + 20.0, label_y + 6.0);
    (path, label_x, label_y - 4.0)
}

fn described(
    (path, label_x, label_y): (String, f64, f64),
    link: &Link,
    names: &[String],
) -> PlacedEdge {
    let (from, to) = (&names[link.from], &names[link.to]);
    let title = match (link.both_ways, link.mtls) {
        (true, true) => format!(
            "{from} and {to} connect to each other with mutual TLS: each trusts the other's issuer"
        ),
        (true, false) => {
            format!("{from} and {to} connect to each other: each trusts the other's issuer")
        }
        (false, true) => {
            format!("{from} connects to {to} with mutual TLS: each trusts the other's issuer")
        }
        (false, false) => format!("{from} connects to {to}: {from} trusts {to}'s issuer"),
    };
    PlacedEdge {
        path,
        label_x: coord(label_x),
        label_y: coord(label_y),
        label: if link.mtls { "mTLS" } else { "TLS" },
        both_ends: link.mtls || link.both_ways,
        mtls: link.mtls,
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

    fn x_of(drawn: &Layout, name: &str) -> f64 {
        let service = drawn.services.iter().find(|s| s.name == name).unwrap();
        service.x.parse().unwrap()
    }

    #[test]
    fn clients_stand_left_of_the_servers_they_call() {
        let services = vec![service("db"), service("web"), service("browser")];
        let edges = [edge("browser", "web", false), edge("web", "db", true)];
        let drawn = layout(services, &edges);
        assert!(x_of(&drawn, "browser") < x_of(&drawn, "web"));
        assert!(x_of(&drawn, "web") < x_of(&drawn, "db"));
        assert_eq!(drawn.services.len(), 3);
        assert_eq!(drawn.edges.len(), 2);
        let mtls = drawn.edges.iter().find(|e| e.mtls).unwrap();
        assert_eq!(mtls.label, "mTLS");
        assert!(drawn
            .edges
            .iter()
            .any(|e| e.title.contains("browser trusts web's issuer")));
    }

    #[test]
    fn everything_drawn_lies_inside_the_drawing() {
        let services = vec![service("a"), service("b"), service("c"), service("d")];
        let edges = [
            edge("a", "b", true),
            edge("b", "a", true),
            edge("a", "c", true),
            edge("c", "a", true),
            edge("d", "a", false),
        ];
        let drawn = layout(services, &edges);
        let (width, height): (f64, f64) =
            (drawn.width.parse().unwrap(), drawn.height.parse().unwrap());
        assert_eq!(
            drawn.edges.len(),
            3,
            "pairs calling each other are drawn once"
        );
        for e in &drawn.edges {
            let numbers: Vec<f64> = e
                .path
                .split([' ', ','])
                .filter_map(|t| t.parse().ok())
                .collect();
            for point in numbers.chunks(2) {
                assert!(
                    point[0] >= 0.0 && point[0] <= width,
                    "{} in {width}",
                    e.path
                );
                assert!(
                    point[1] >= 0.0 && point[1] <= height,
                    "{} in {height}",
                    e.path
                );
            }
        }
    }

    #[test]
    fn a_cycle_ends_and_every_edge_is_still_drawn() {
        let services = vec![service("a"), service("b"), service("c")];
        let edges = [
            edge("a", "b", false),
            edge("b", "c", false),
            edge("c", "a", false),
        ];
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
