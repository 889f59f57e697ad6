//! Charts as SVG rendered by the server (no JavaScript chart library): bar,
//! column, line and donut charts for the report pages, bulletins and the
//! dashboard. Each function returns one complete `<svg class="chart">`
//! element, sized by its `viewBox` so that it scales with the page and
//! prints sharply; every label is escaped (category names, street names
//! and words come from user text). Colours are inline so that a chart
//! looks the same on screen, on paper and when saved on its own.

use std::fmt::Write;

/// How values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Counts (whole numbers, thousands grouped).
    Count,
    /// Rates as fractions 0..1, shown as percentages.
    Percent,
}

/// One bar of a bar chart, with the previous period's value if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub previous: Option<f64>,
}

/// One series of a column or line chart; `None` is a gap.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// Series colours: the first is the current period, the second usually
/// the previous one.
const PALETTE: &[&str] = &[
    "#1f6feb", "#9aa4b2", "#e3892b", "#2da44e", "#bf3989", "#8250df", "#0e8a9c", "#cf222e",
];
const TEXT: &str = "#24292f";
const MUTED: &str = "#57606a";
const GRID: &str = "#d8dee4";

fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Escapes text for SVG (element content and attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A value as people read it.
pub fn fmt_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{:.1}%", v * 100.0),
        Unit::Count => {
            if v.fract().abs() > 1e-9 {
                return format!("{v:.1}");
            }
            let n = v.round() as i64;
            let digits = n.unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            if n < 0 { format!("-{out}") } else { out }
        }
    }
}

/// Cuts a label to `max` characters (CJK count as one), with an ellipsis.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A "nice" upper bound of an axis for `max` (1, 2, 2.5, 5 × 10ⁿ) and
/// the number of grid steps.
pub fn nice_max(max: f64, unit: Unit) -> (f64, u32) {
    if !max.is_finite() || max <= 0.0 {
        return (1.0, 4);
    }
    if unit == Unit::Percent && max > 0.5 && max <= 1.0 {
        return (1.0, 4);
    }
    let exp = max.log10().floor();
    let base = 10f64.powf(exp);
    for (m, steps) in [(1.0, 4), (2.0, 4), (2.5, 5), (5.0, 5), (10.0, 4)] {
        if max <= m * base * (1.0 + 1e-9) {
            let top = m * base;
            // Counts below 4 would give fractional grid lines.
            if unit == Unit::Count && top < 4.0 {
                return (top.ceil().max(1.0), top.ceil().max(1.0) as u32);
            }
            return (top, steps);
        }
    }
    (10.0 * base, 5)
}

fn open(out: &mut String, title: &str, w: u32, h: u32) {
    open_styled(out, title, w, h, "");
}

fn open_styled(out: &mut String, title: &str, w: u32, h: u32, style: &str) {
    let t = esc(title);
    let _ = write!(
        out,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="100%"{style} preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" font-size="12" fill="{TEXT}"><title>{t}</title>"#
    );
}

fn empty(title: &str) -> String {
    let mut out = String::new();
    open(&mut out, title, 640, 60);
    let _ = write!(
        out,
        r#"<text x="320" y="35" text-anchor="middle" fill="{MUTED}">无数据 (no data)</text></svg>"#
    );
    out
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Horizontal bars, one per item, longest scale first as given; the
/// previous period's value is a dark tick across the bar.
pub fn bars(title: &str, bars: &[Bar], unit: Unit) -> String {
    if bars.is_empty() {
        return empty(title);
    }
    let (label_w, plot_w, value_w, row_h) = (150.0, 380.0, 110.0, 26.0);
    let w = (label_w + plot_w + value_w) as u32;
    let with_previous = bars.iter().any(|b| b.previous.is_some());
    let legend_h = if with_previous { 22.0 } else { 0.0 };
    let h = (bars.len() as f64 * row_h + 10.0 + legend_h) as u32;
    let max = bars
        .iter()
        .flat_map(|b| [finite(b.value), b.previous.map(finite).unwrap_or(0.0)])
        .fold(0.0f64, f64::max);
    let (top, _) = nice_max(max, unit);
    let x = |v: f64| label_w + (finite(v).max(0.0) / top).min(1.0) * plot_w;
    let mut out = String::new();
    open(&mut out, title, w, h);
    for (i, b) in bars.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let label = esc(&b.label);
        let prev = b
            .previous
            .map(|p| format!("，上期 {}", fmt_value(p, unit)))
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<g><title>{label}：{}{}</title><text x="{:.0}" y="{:.1}" text-anchor="end">{}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="{:.1}" rx="2" fill="{}"/>"#,
            fmt_value(b.value, unit),
            esc(&prev),
            label_w - 8.0,
            y + row_h * 0.62,
            esc(&short(&b.label, 11)),
            y + 4.0,
            x(b.value) - label_w,
            row_h - 8.0,
            color(0),
        );
        if let Some(p) = b.previous {
            let px = x(p);
            let _ = write!(
                out,
                r#"<line x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="{TEXT}" stroke-width="2"/>"#,
                y + 1.0,
                y + row_h - 1.0
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}</text></g>"#,
            x(b.value).max(b.previous.map(x).unwrap_or(0.0)) + 6.0,
            y + row_h * 0.62,
            fmt_value(b.value, unit)
        );
    }
    if with_previous {
        let y = 5.0 + bars.len() as f64 * row_h + 12.0;
        let _ = write!(
            out,
            r#"<rect x="{label_w}" y="{:.1}" width="12" height="10" rx="2" fill="{}"/><text x="{:.1}" y="{y:.1}" fill="{MUTED}" font-size="11">本期</text><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{TEXT}" stroke-width="2"/><text x="{:.1}" y="{y:.1}" fill="{MUTED}" font-size="11">上期</text>"#,
            y - 9.0,
            color(0),
            label_w + 16.0,
            label_w + 60.0,
            label_w + 60.0,
            y - 10.0,
            y + 2.0,
            label_w + 66.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Axes, grid lines and tick labels of a vertical chart; returns the
/// function mapping a value to y.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    max: f64,
}

impl Frame {
    fn y(&self, v: f64) -> f64 {
        self.top + self.height - (finite(v).max(0.0) / self.max).min(1.0) * self.height
    }
    fn draw(&self, out: &mut String, unit: Unit, steps: u32) {
        for i in 0..=steps {
            let v = self.max * i as f64 / steps as f64;
            let y = self.y(v);
            let _ = write!(
                out,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{GRID}"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{MUTED}" font-size="11">{}</text>"#,
                self.left,
                self.left + self.width,
                self.left - 6.0,
                y + 4.0,
                fmt_value(v, unit)
            );
        }
    }
    /// X labels, thinned so that they do not overlap.
    fn x_labels(&self, out: &mut String, x: &[String], centre: impl Fn(usize) -> f64) {
        let room = self.width / x.len().max(1) as f64;
        let longest = x.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
        let need = longest.min(8.0) * 7.5 + 6.0;
        let every = (need / room).ceil().max(1.0) as usize;
        for (i, l) in x.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{MUTED}" font-size="11">{}</text>"#,
                centre(i),
                self.top + self.height + 16.0,
                esc(&short(l, 8))
            );
        }
    }
}

fn legend(out: &mut String, series: &[Series], x0: f64, y: f64) {
    if series.len() < 2 {
        return;
    }
    let mut x = x0;
    for (i, s) in series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" rx="2" fill="{}"/><text x="{:.1}" y="{y:.1}">{}</text>"#,
            y - 10.0,
            color(i),
            x + 16.0,
            esc(&short(&s.name, 12))
        );
        x += 16.0 + short(&s.name, 12).chars().count() as f64 * 12.5 + 18.0;
    }
}

fn series_max(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .map(|v| finite(*v))
        .fold(0.0, f64::max)
}

fn frame_for(series: &[Series], unit: Unit) -> (Frame, u32) {
    let (max, steps) = nice_max(series_max(series), unit);
    let top = if series.len() > 1 { 28.0 } else { 10.0 };
    (
        Frame {
            left: 56.0,
            top,
            width: 570.0,
            height: 170.0,
            max,
        },
        steps,
    )
}

/// Vertical columns over `x`, grouped side by side when there is more than
/// one series (e.g. this period and the previous one).
pub fn columns(title: &str, x: &[String], series: &[Series], unit: Unit) -> String {
    if x.is_empty() || series.is_empty() {
        return empty(title);
    }
    let (f, steps) = frame_for(series, unit);
    let mut out = String::new();
    open(&mut out, title, 640, (f.top + f.height + 24.0) as u32);
    legend(&mut out, series, f.left, 16.0);
    f.draw(&mut out, unit, steps);
    let slot = f.width / x.len() as f64;
    let gap = (slot * 0.2).min(8.0);
    let bw = (slot - gap) / series.len() as f64;
    for (si, s) in series.iter().enumerate() {
        for (i, v) in s.values.iter().enumerate().take(x.len()) {
            let Some(v) = v else { continue };
            let x0 = f.left + i as f64 * slot + gap / 2.0 + si as f64 * bw;
            let y = f.y(*v);
            let _ = write!(
                out,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} {}：{}</title></rect>"#,
                (bw - 0.5).max(0.5),
                f.top + f.height - y,
                color(si),
                esc(&x[i]),
                esc(&s.name),
                fmt_value(*v, unit)
            );
        }
    }
    f.x_labels(&mut out, x, |i| f.left + (i as f64 + 0.5) * slot);
    out.push_str("</svg>");
    out
}

/// Lines over `x`; a `None` value breaks the line.
pub fn lines(title: &str, x: &[String], series: &[Series], unit: Unit) -> String {
    if x.is_empty() || series.is_empty() {
        return empty(title);
    }
    let (f, steps) = frame_for(series, unit);
    let mut out = String::new();
    open(&mut out, title, 640, (f.top + f.height + 24.0) as u32);
    legend(&mut out, series, f.left, 16.0);
    f.draw(&mut out, unit, steps);
    let step = if x.len() > 1 {
        f.width / (x.len() - 1) as f64
    } else {
        0.0
    };
    let px = |i: usize| {
        if x.len() > 1 {
            f.left + i as f64 * step
        } else {
            f.left + f.width / 2.0
        }
    };
    for (si, s) in series.iter().enumerate() {
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate().take(x.len()) {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1}",
                        if pen_down { " L" } else { " M" },
                        px(i),
                        f.y(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linejoin="round"/>"#,
                d.trim_start(),
                color(si)
            );
        }
        // Dots with the value on hover, only when they do not crowd.
        if x.len() <= 40 {
            for (i, v) in s.values.iter().enumerate().take(x.len()) {
                if let Some(v) = v {
                    let _ = write!(
                        out,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{} {}：{}</title></circle>"#,
                        px(i),
                        f.y(*v),
                        color(si),
                        esc(&x[i]),
                        esc(&s.name),
                        fmt_value(*v, unit)
                    );
                }
            }
        }
    }
    f.x_labels(&mut out, x, px);
    out.push_str("</svg>");
    out
}

/// A donut of shares with a legend (name, count, percent); parts of zero
/// or less are left out.
pub fn donut(title: &str, parts: &[(String, f64)]) -> String {
    let parts: Vec<&(String, f64)> = parts
        .iter()
        .filter(|(_, v)| v.is_finite() && *v > 0.0)
        .collect();
    let total: f64 = parts.iter().map(|(_, v)| v).sum();
    if parts.is_empty() || total <= 0.0 {
        return empty(title);
    }
    let (cx, cy, r, inner) = (100.0, 100.0, 80.0, 48.0);
    let h = (parts.len() as f64 * 22.0 + 20.0).max(200.0) as u32;
    let mut out = String::new();
    open_styled(&mut out, title, 460, h, r#" data-narrow="1""#);
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, (name, v)) in parts.iter().enumerate() {
        let share = v / total;
        let tip = format!(
            "{}：{}（{:.1}%）",
            name,
            fmt_value(*v, Unit::Count),
            share * 100.0
        );
        if share >= 0.9999 {
            let _ = write!(
                out,
                r#"<circle cx="{cx}" cy="{cy}" r="{:.1}" fill="none" stroke="{}" stroke-width="{:.1}"><title>{}</title></circle>"#,
                (r + inner) / 2.0,
                color(i),
                r - inner,
                esc(&tip)
            );
        } else {
            let a1 = angle + share * std::f64::consts::TAU;
            let large = if share > 0.5 { 1 } else { 0 };
            let (x0, y0) = (cx + r * angle.cos(), cy + r * angle.sin());
            let (x1, y1) = (cx + r * a1.cos(), cy + r * a1.sin());
            let (x2, y2) = (cx + inner * a1.cos(), cy + inner * a1.sin());
            let (x3, y3) = (cx + inner * angle.cos(), cy + inner * angle.sin());
            let _ = write!(
                out,
                r##"<path d="M{x0:.2},{y0:.2} A{r},{r} 0 {large} 1 {x1:.2},{y1:.2} L{x2:.2},{y2:.2} A{inner},{inner} 0 {large} 0 {x3:.2},{y3:.2} Z" fill="{}" stroke="#fff" stroke-width="1"><title>{}</title></path>"##,
                color(i),
                esc(&tip)
            );
            angle = a1;
        }
        let ly = 24.0 + i as f64 * 22.0;
        let _ = write!(
            out,
            r#"<rect x="210" y="{:.1}" width="12" height="12" rx="2" fill="{}"/><text x="228" y="{ly:.1}">{}</text><text x="450" y="{ly:.1}" text-anchor="end" fill="{MUTED}">{}　{:.1}%</text>"#,
            ly - 10.0,
            color(i),
            esc(&short(name, 10)),
            fmt_value(*v, Unit::Count),
            share * 100.0
        );
    }
    let _ = write!(
        out,
        r#"<text x="{cx}" y="{:.1}" text-anchor="middle" font-size="20" font-weight="600">{}</text><text x="{cx}" y="{:.1}" text-anchor="middle" fill="{MUTED}" font-size="11">合计</text></svg>"#,
        cy + 4.0,
        fmt_value(total, Unit::Count),
        cy + 20.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64, previous: Option<f64>) -> Bar {
        Bar {
            label: label.into(),
            value,
            previous,
        }
    }

    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // Every element that opens a title closes it.
        assert_eq!(
            svg.matches("<title>").count(),
            svg.matches("</title>").count()
        );
    }

    #[test]
    fn values_read_like_people_write_them() {
        assert_eq!(fmt_value(1234567.0, Unit::Count), "1,234,567");
        assert_eq!(fmt_value(999.0, Unit::Count), "999");
        assert_eq!(fmt_value(-1000.0, Unit::Count), "-1,000");
        assert_eq!(fmt_value(2.5, Unit::Count), "2.5");
        assert_eq!(fmt_value(0.9534, Unit::Percent), "95.3%");
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_max(87.0, Unit::Count), (100.0, 4));
        assert_eq!(nice_max(101.0, Unit::Count), (200.0, 4));
        assert_eq!(nice_max(230.0, Unit::Count), (250.0, 5));
        assert_eq!(nice_max(4100.0, Unit::Count), (5000.0, 5));
        assert_eq!(nice_max(3.0, Unit::Count), (5.0, 5));
        assert_eq!(nice_max(2.0, Unit::Count), (2.0, 2));
        assert_eq!(nice_max(0.0, Unit::Count), (1.0, 4));
        assert_eq!(nice_max(f64::NAN, Unit::Count), (1.0, 4));
        assert_eq!(nice_max(0.93, Unit::Percent), (1.0, 4));
        assert_eq!(nice_max(0.12, Unit::Percent).0, 0.2);
    }

    #[test]
    fn bars_scale_to_the_largest_and_mark_the_previous_period() {
        let svg = bars(
            "受理量",
            &[
                bar("社会保障", 80.0, Some(100.0)),
                bar("城乡建设", 40.0, None),
            ],
            Unit::Count,
        );
        well_formed(&svg);
        // Axis top is 100: 80 takes 80 % of the 380 px plot.
        assert!(svg.contains(r#"width="304.0""#), "{svg}");
        assert!(svg.contains(r#"width="152.0""#), "{svg}");
        // The previous value (100) is a tick at the end of the plot.
        assert!(svg.contains(r#"x1="530.0""#), "{svg}");
        // One tick for the bar with a previous value, one in the legend.
        assert_eq!(svg.matches("<line").count(), 2);
        assert!(svg.contains("上期 100"));
    }

    #[test]
    fn user_text_is_escaped_everywhere() {
        let evil = "<script>alert('x')</script>&\"";
        let x = vec![evil.to_string()];
        let s = vec![Series {
            name: evil.into(),
            values: vec![Some(1.0)],
        }];
        for svg in [
            bars(evil, &[bar(evil, 1.0, Some(2.0))], Unit::Count),
            columns(evil, &x, &s, Unit::Count),
            lines(evil, &x, &s, Unit::Count),
            donut(evil, &[(evil.to_string(), 3.0)]),
        ] {
            well_formed(&svg);
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("'x'"), "{svg}");
            assert!(svg.contains("&lt;script&gt;"), "{svg}");
        }
    }

    #[test]
    fn empty_and_odd_data_give_a_chart_not_a_panic() {
        let none: Vec<Series> = vec![];
        for svg in [
            bars("t", &[], Unit::Count),
            columns("t", &[], &none, Unit::Count),
            lines("t", &["1".into()], &none, Unit::Percent),
            donut("t", &[]),
            donut("t", &[("a".into(), 0.0), ("b".into(), -1.0)]),
        ] {
            well_formed(&svg);
            assert!(svg.contains("无数据"));
        }
        let odd = vec![Series {
            name: "s".into(),
            values: vec![Some(f64::NAN), None, Some(-3.0), Some(f64::INFINITY)],
        }];
        let x: Vec<String> = (1..=4).map(|i| i.to_string()).collect();
        well_formed(&columns("t", &x, &odd, Unit::Count));
        well_formed(&lines("t", &x, &odd, Unit::Count));
        well_formed(&bars(
            "t",
            &[bar("a", f64::NAN, Some(f64::INFINITY))],
            Unit::Count,
        ));
        // More values than labels: the extra ones are ignored.
        let long = vec![Series {
            name: "s".into(),
            values: vec![Some(1.0); 10],
        }];
        assert_eq!(
            columns("t", &x[..2], &long, Unit::Count)
                .matches("<rect")
                .count(),
            2
        );
    }

    #[test]
    fn columns_group_series_and_lines_break_at_gaps() {
        let x: Vec<String> = (1..=3).map(|d| format!("11-{d:02}")).collect();
        let s = vec![
            Series {
                name: "本期".into(),
                values: vec![Some(10.0), Some(20.0), None],
            },
            Series {
                name: "上期".into(),
                values: vec![Some(5.0), Some(5.0), Some(5.0)],
            },
        ];
        let svg = columns("趋势", &x, &s, Unit::Count);
        well_formed(&svg);
        // 5 columns + 2 legend swatches.
        assert_eq!(svg.matches("<rect").count(), 7);
        assert!(svg.contains("本期") && svg.contains("上期"));
        let svg = lines("趋势", &x, &s, Unit::Count);
        well_formed(&svg);
        assert_eq!(svg.matches("<path").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 5);
        // The first series stops before its gap: one move, one line.
        let first = svg.split("<path d=\"").nth(1).unwrap();
        let d = &first[..first.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 1);
        assert_eq!(d.matches('L').count(), 1);
    }

    #[test]
    fn many_x_labels_are_thinned() {
        let x: Vec<String> = (1..=365).map(|d| format!("第{d}天")).collect();
        let s = vec![Series {
            name: "s".into(),
            values: vec![Some(1.0); 365],
        }];
        let svg = lines("t", &x, &s, Unit::Count);
        let labels = svg.matches("text-anchor=\"middle\" fill=\"#57606a\" font-size=\"11\"");
        assert!(labels.count() < 40);
        // No dots when they would crowd.
        assert_eq!(svg.matches("<circle").count(), 0);
    }

    #[test]
    fn donut_shares_add_up() {
        let svg = donut(
            "渠道",
            &[
                ("电话".into(), 75.0),
                ("网站".into(), 25.0),
                ("零".into(), 0.0),
            ],
        );
        well_formed(&svg);
        assert!(svg.contains("75.0%") && svg.contains("25.0%"));
        assert!(!svg.contains("零"));
        assert!(svg.contains(">100<"));
        // A single part is a full ring, not a degenerate arc.
        let one = donut("渠道", &[("电话".into(), 3.0)]);
        assert!(one.contains("<circle") && !one.contains("<path"));
    }
}
