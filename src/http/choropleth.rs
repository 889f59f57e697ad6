//! The district map of the district analysis as server-side SVG: a
//! choropleth of a value per region (tickets per district or street).
//!
//! Pure and small on purpose:
//! - projection: equirectangular, longitudes scaled by cos(latitude) at the
//!   centre of the map (a city is small: shapes keep their proportions);
//! - fitting: the projected bounding box scaled into the drawing area,
//!   aspect kept, centred;
//! - paths: coordinates rounded to 0.1 px, points closer than
//!   [`TOLERANCE`] px to the line of their neighbours dropped
//!   (Douglas–Peucker), so that an official boundary file of a few MB
//!   becomes an SVG of tens of kB;
//! - colour: a sequential scale of [`PALETTE`] classes of equal width from
//!   0 to the largest value, with a legend; regions without data in grey;
//! - every name escaped; a `<title>` per region (the value on hover).

use std::fmt::Write;

use crate::domain::geo::{Region, Ring};

/// Sequential blues, light to dark.
pub const PALETTE: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
/// Colour of a region without a value.
pub const NO_DATA: &str = "#e5e7eb";
/// Simplification tolerance in pixels.
pub const TOLERANCE: f64 = 0.6;

/// Escapes text for SVG (shared with the charts).
pub use super::charts::esc as escape;

/// Equirectangular projection with longitudes scaled by `cos(lat0)`; `y`
/// grows southwards (screen coordinates).
pub fn project(lon: f64, lat: f64, lat0: f64) -> (f64, f64) {
    (lon * lat0.to_radians().cos(), -lat)
}

/// A projected point's place in the drawing: `scale` and offsets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    pub lat0: f64,
    pub scale: f64,
    pub dx: f64,
    pub dy: f64,
}

impl Fit {
    /// Fits every ring into `width × height` (pixels) with `pad` on each
    /// side, keeping the aspect ratio and centring. `None` without points.
    pub fn new<'a>(
        rings: impl Iterator<Item = &'a Ring> + Clone,
        width: f64,
        height: f64,
        pad: f64,
    ) -> Option<Fit> {
        let (mut lat_min, mut lat_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in rings.clone().flatten() {
            lat_min = lat_min.min(p[1]);
            lat_max = lat_max.max(p[1]);
        }
        if !lat_min.is_finite() {
            return None;
        }
        let lat0 = (lat_min + lat_max) / 2.0;
        let (mut x0, mut y0, mut x1, mut y1) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for p in rings.flatten() {
            let (x, y) = project(p[0], p[1], lat0);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        let (w, h) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
        let (aw, ah) = ((width - 2.0 * pad).max(1.0), (height - 2.0 * pad).max(1.0));
        let scale = (aw / w).min(ah / h);
        Some(Fit {
            lat0,
            scale,
            dx: pad + (aw - w * scale) / 2.0 - x0 * scale,
            dy: pad + (ah - h * scale) / 2.0 - y0 * scale,
        })
    }

    /// A `[lon, lat]` position in pixels.
    pub fn apply(&self, p: [f64; 2]) -> (f64, f64) {
        let (x, y) = project(p[0], p[1], self.lat0);
        (x * self.scale + self.dx, y * self.scale + self.dy)
    }
}

fn dist_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = vx * vx + vy * vy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * vx + (p.1 - a.1) * vy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a.0 + t * vx, a.1 + t * vy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// Douglas–Peucker: the points of `pts` needed to stay within `tol` of the
/// line (first and last always kept).
pub fn simplify(pts: &[(f64, f64)], tol: f64) -> Vec<(f64, f64)> {
    if pts.len() < 3 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len()];
    keep[0] = true;
    keep[pts.len() - 1] = true;
    let mut stack = vec![(0usize, pts.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut far, mut at) = (0.0, a);
        for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = dist_to_segment(*p, pts[a], pts[b]);
            if d > far {
                far = d;
                at = i;
            }
        }
        if far > tol {
            keep[at] = true;
            stack.push((a, at));
            stack.push((at, b));
        }
    }
    pts.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

fn num(out: &mut String, v: f64) {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        let _ = write!(out, "{}", r as i64);
    } else {
        let _ = write!(out, "{r:.1}");
    }
}

/// The SVG path data of a region's polygons (holes drawn with the
/// even-odd rule). Rings that shrink below three points vanish.
pub fn path_data(polygons: &[Vec<Ring>], fit: &Fit) -> String {
    let mut out = String::new();
    for ring in polygons.iter().flatten() {
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(ring.len());
        for p in ring {
            let (x, y) = fit.apply(*p);
            let q = ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0);
            if pts.last() != Some(&q) {
                pts.push(q);
            }
        }
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        // Split the closed ring in two so that both halves keep their shape.
        let pts = if pts.len() > 4 {
            let mid = pts.len() / 2;
            let mut a = simplify(&pts[..=mid], TOLERANCE);
            let mut b = pts[mid..].to_vec();
            b.push(pts[0]);
            let b = simplify(&b, TOLERANCE);
            a.pop();
            a.extend_from_slice(&b[..b.len() - 1]);
            a
        } else {
            pts
        };
        if pts.len() < 3 {
            continue;
        }
        for (i, (x, y)) in pts.iter().enumerate() {
            out.push(if i == 0 { 'M' } else { 'L' });
            num(&mut out, *x);
            out.push(',');
            num(&mut out, *y);
        }
        out.push('Z');
    }
    out
}

/// The class (0..PALETTE.len()) of a value on a scale from 0 to `max`.
pub fn class_of(value: f64, max: f64) -> usize {
    if max <= 0.0 || value <= 0.0 {
        return 0;
    }
    let n = PALETTE.len();
    (((value / max) * n as f64).ceil() as usize).clamp(1, n) - 1
}

/// The colour of a value on a scale from 0 to `max`.
pub fn colour(value: Option<f64>, max: f64) -> &'static str {
    match value {
        None => NO_DATA,
        Some(v) => PALETTE[class_of(v, max)],
    }
}

/// The legend for whole counts: `(class, label)` for every class that
/// holds at least one whole number from 0 to `max` ("0 – 3", "4", …),
/// matching [`class_of`].
pub fn legend(max: f64) -> Vec<(usize, String)> {
    let n = PALETTE.len();
    let max = max.max(0.0).floor();
    let mut out = Vec::new();
    for i in 0..n {
        let lo = if i == 0 {
            0.0
        } else {
            (max * i as f64 / n as f64).floor() + 1.0
        };
        let hi = (max * (i + 1) as f64 / n as f64).floor();
        if lo > hi {
            continue;
        }
        let label = if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo} – {hi}")
        };
        out.push((i, label));
    }
    out
}

/// One region's value and what its hover title says.
pub struct Shade {
    pub value: Option<f64>,
    pub title: String,
}

/// The whole map: `regions` coloured by `shade(name)`, a legend with
/// `unit` (e.g. "件"), `title` as the accessible label. 960 × 600 view box.
pub fn render(
    title: &str,
    regions: &[Region],
    shade: impl Fn(&str) -> Shade,
    unit: &str,
) -> String {
    const W: f64 = 960.0;
    const H: f64 = 600.0;
    const LEGEND: f64 = 170.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart map" role="img" aria-label="{}" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    let rings = regions.iter().flat_map(|r| r.polygons.iter().flatten());
    let Some(fit) = Fit::new(rings, W - LEGEND, H, 12.0) else {
        out.push_str("</svg>");
        return out;
    };
    let shades: Vec<Shade> = regions.iter().map(|r| shade(&r.name)).collect();
    let max = shades.iter().filter_map(|s| s.value).fold(0.0f64, f64::max);
    out.push_str(r##"<g stroke="#fff" stroke-width="1" fill-rule="evenodd">"##);
    for (r, s) in regions.iter().zip(&shades) {
        let d = path_data(&r.polygons, &fit);
        if d.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            r#"<path class="region" data-name="{}" fill="{}" d="{d}"><title>{}</title></path>"#,
            escape(&r.name),
            colour(s.value, max),
            escape(&s.title)
        );
    }
    out.push_str("</g>");
    // Labels at the centre of each region's bounding box.
    out.push_str(
        r##"<g font-size="14" text-anchor="middle" fill="#1d2733" stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke" pointer-events="none">"##,
    );
    for r in regions {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in r.polygons.iter().take(1).flatten().flatten() {
            let (x, y) = fit.apply(*p);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if x0 < x1 && (x1 - x0) > 30.0 {
            out.push_str("<text x=\"");
            num(&mut out, (x0 + x1) / 2.0);
            out.push_str("\" y=\"");
            num(&mut out, (y0 + y1) / 2.0);
            let _ = write!(out, "\">{}</text>", escape(&r.name));
        }
    }
    out.push_str("</g>");
    // Legend.
    let lx = W - LEGEND + 16.0;
    let mut y = H - 30.0 - 24.0 * (PALETTE.len() as f64 + 1.0);
    let _ = write!(
        out,
        r##"<g class="legend" font-size="13" fill="#1d2733"><text x="{lx}" y="{y}">{}</text>"##,
        escape(unit)
    );
    for (i, label) in legend(max) {
        y += 24.0;
        let _ = write!(
            out,
            r##"<rect x="{lx}" y="{}" width="22" height="16" fill="{}" stroke="#999" stroke-width=".5"/><text x="{}" y="{}">{}</text>"##,
            y - 12.0,
            PALETTE[i],
            lx + 30.0,
            y + 1.0,
            escape(&label)
        );
    }
    y += 24.0;
    let _ = write!(
        out,
        r##"<rect x="{lx}" y="{}" width="22" height="16" fill="{NO_DATA}" stroke="#999" stroke-width=".5"/><text x="{}" y="{}">无数据</text></g>"##,
        y - 12.0,
        lx + 30.0,
        y + 1.0
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Vec<Ring> {
        vec![vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]
    }

    #[test]
    fn projection_scales_longitude_by_cos_latitude() {
        assert_eq!(project(10.0, 0.0, 0.0), (10.0, -0.0));
        let (x, y) = project(120.0, 36.0, 60.0);
        assert!((x - 60.0).abs() < 1e-9, "{x}");
        assert_eq!(y, -36.0);
        // North is up: a larger latitude has a smaller y.
        assert!(project(0.0, 37.0, 36.0).1 < project(0.0, 36.0, 36.0).1);
    }

    #[test]
    fn fitting_keeps_the_aspect_and_centres_the_box() {
        // At latitude 60 one degree of longitude is half a degree of
        // latitude: a 2°×1° box is square on screen.
        let rings = [vec![[0.0, 59.5], [2.0, 60.5]]];
        let f = Fit::new(rings.iter(), 200.0, 100.0, 0.0).unwrap();
        let (x0, y0) = f.apply([0.0, 60.5]);
        let (x1, y1) = f.apply([2.0, 59.5]);
        assert!(
            (x0 - 50.0).abs() < 0.5 && (x1 - 150.0).abs() < 0.5,
            "{x0} {x1}"
        );
        assert!(y0.abs() < 1e-6 && (y1 - 100.0).abs() < 1e-6, "{y0} {y1}");
        assert!(Fit::new(std::iter::empty::<&Ring>(), 10.0, 10.0, 0.0).is_none());
    }

    #[test]
    fn paths_are_rounded_and_simplified() {
        // A square with 400 points on each side: simplified to 4 corners.
        let mut ring = vec![];
        for i in 0..400 {
            ring.push([120.0 + i as f64 / 4000.0, 36.0]);
        }
        for i in 0..400 {
            ring.push([120.1, 36.0 + i as f64 / 4000.0]);
        }
        for i in 0..400 {
            ring.push([120.1 - i as f64 / 4000.0, 36.1]);
        }
        for i in 0..400 {
            ring.push([120.0, 36.1 - i as f64 / 4000.0]);
        }
        ring.push([120.0, 36.0]);
        let polys = [vec![ring]];
        let fit = Fit::new(polys.iter().flatten(), 100.0, 100.0, 0.0).unwrap();
        let d = path_data(&polys[0..1], &fit);
        assert_eq!(d.matches('L').count(), 3, "{d}");
        assert!(d.starts_with('M') && d.ends_with('Z'));
        assert!(!d.contains("00000"), "rounded: {d}");
        // A tiny ring collapses and vanishes.
        let tiny = vec![vec![
            [120.0, 36.0],
            [120.0000001, 36.0],
            [120.0, 36.0000001],
        ]];
        assert_eq!(path_data(&[tiny], &fit), "");
    }

    #[test]
    fn colour_scale_classes() {
        assert_eq!(class_of(0.0, 100.0), 0);
        assert_eq!(class_of(1.0, 100.0), 0);
        assert_eq!(class_of(20.0, 100.0), 0);
        assert_eq!(class_of(21.0, 100.0), 1);
        assert_eq!(class_of(100.0, 100.0), 4);
        assert_eq!(class_of(150.0, 100.0), 4);
        assert_eq!(class_of(5.0, 0.0), 0);
        assert_eq!(colour(None, 10.0), NO_DATA);
        assert_eq!(colour(Some(10.0), 10.0), PALETTE[4]);
        let l = legend(100.0);
        assert_eq!(l.len(), PALETTE.len());
        assert_eq!(l[0], (0, "0 – 20".to_string()));
        assert_eq!(l[1], (1, "21 – 40".to_string()));
        assert_eq!(l[4], (4, "81 – 100".to_string()));
        // Few tickets: only classes that can hold a whole number, and the
        // legend agrees with the colours.
        let l = legend(3.0);
        assert_eq!(
            l,
            vec![
                (0, "0".to_string()),
                (1, "1".to_string()),
                (3, "2".to_string()),
                (4, "3".to_string())
            ]
        );
        for v in 0..=3 {
            let c = class_of(f64::from(v), 3.0);
            assert!(l.iter().any(|(i, t)| *i == c && *t == v.to_string()), "{v}");
        }
        assert_eq!(legend(0.0), vec![(0, "0".to_string())]);
    }

    #[test]
    fn the_map_escapes_names_and_titles_every_region() {
        let regions = vec![
            Region {
                name: "市南<区>&\"".into(),
                polygons: vec![square(120.0, 36.0, 0.1)],
            },
            Region {
                name: "市北区".into(),
                polygons: vec![square(120.1, 36.0, 0.1)],
            },
        ];
        let svg = render(
            "地图 <x>",
            &regions,
            |n| Shade {
                value: (n == "市北区").then_some(42.0),
                title: format!("{n}：42 件"),
            },
            "件",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<x>") && !svg.contains("南<区"));
        assert!(svg.contains("市南&lt;区&gt;&amp;&quot;"));
        assert_eq!(svg.matches("<title>").count(), 2);
        assert!(svg.contains(&format!("fill=\"{}\"", PALETTE[4])));
        assert!(svg.contains(&format!("fill=\"{NO_DATA}\"")));
        assert!(svg.contains("无数据"));
        assert!(svg.len() < 6000, "{}", svg.len());
    }
}
