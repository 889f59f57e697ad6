//! District boundaries for the choropleth map of the district analysis
//! (issue 6): the administrator uploads a GeoJSON `FeatureCollection` once;
//! this module validates it and keeps only what the map needs (a name and
//! polygons per region). Nothing is ever fetched from the internet.
//!
//! Validation, each failure a clear message (the caller answers 400):
//! size limit ([`MAX_BYTES`]), JSON, `type: FeatureCollection`, at least one
//! feature, geometry `Polygon` or `MultiPolygon` only, coordinates finite and
//! within longitude −180…180 / latitude −90…90, rings of at least three
//! positions, at most [`MAX_POINTS`] positions and [`MAX_REGIONS`] regions,
//! and a name on every feature (the chosen property, or one detected: a
//! property that is a non-empty string on every feature, preferring the one
//! that matches most of the names in the data). Features with the same name
//! are one region. Coordinates are rounded to [`DECIMALS`] places (about a
//! metre), which also keeps the stored copy small.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest accepted upload.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Most positions over all rings.
pub const MAX_POINTS: usize = 300_000;
/// Most regions.
pub const MAX_REGIONS: usize = 2_000;
/// Decimal places kept of each coordinate.
pub const DECIMALS: i32 = 5;

/// A ring: `[longitude, latitude]` positions.
pub type Ring = Vec<[f64; 2]>;
/// A polygon: its outer ring first, then holes.
pub type Polygon = Vec<Ring>;

/// One named area of the map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    pub polygons: Vec<Polygon>,
}

/// Which names the regions carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 区县 (district)
    District,
    /// 街道 (street / township)
    Street,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "district" => Some(Level::District),
            "street" => Some(Level::Street),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "district",
            Level::Street => "street",
        }
    }
}

/// A validated upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Boundaries {
    pub level: Level,
    /// The feature property the names were read from.
    pub name_property: String,
    pub regions: Vec<Region>,
    /// Positions over all rings (after rounding).
    pub points: usize,
}

fn round(v: f64) -> f64 {
    let f = 10f64.powi(DECIMALS);
    (v * f).round() / f
}

fn position(v: &Value, at: &str) -> Result<[f64; 2], String> {
    let a = v
        .as_array()
        .filter(|a| a.len() >= 2)
        .ok_or_else(|| format!("{at}：坐标应为 [经度, 纬度] ({at}: a position is [lon, lat])"))?;
    let lon = a[0].as_f64();
    let lat = a[1].as_f64();
    match (lon, lat) {
        (Some(lon), Some(lat))
            if lon.is_finite()
                && lat.is_finite()
                && (-180.0..=180.0).contains(&lon)
                && (-90.0..=90.0).contains(&lat) =>
        {
            Ok([round(lon), round(lat)])
        }
        _ => Err(format!(
            "{at}：坐标超出范围（经度 −180…180，纬度 −90…90） ({at}: coordinates out of range)"
        )),
    }
}

fn polygon(v: &Value, at: &str, points: &mut usize) -> Result<Polygon, String> {
    let rings = v
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| format!("{at}：多边形应为环的数组 ({at}: a polygon is a list of rings)"))?;
    let mut out = Vec::with_capacity(rings.len());
    for (i, r) in rings.iter().enumerate() {
        let at = format!("{at} 环{}", i + 1);
        let pos = r
            .as_array()
            .ok_or_else(|| format!("{at}：环应为坐标数组 ({at}: a ring is a list of positions)"))?;
        if pos.len() < 3 {
            return Err(format!(
                "{at}：环至少需要3个坐标 ({at}: a ring needs at least 3 positions)"
            ));
        }
        *points += pos.len();
        if *points > MAX_POINTS {
            return Err(format!(
                "坐标点超过{MAX_POINTS}个，请先简化边界 (more than {MAX_POINTS} positions: simplify the boundaries first)"
            ));
        }
        let ring = pos
            .iter()
            .map(|p| position(p, &at))
            .collect::<Result<Ring, String>>()?;
        out.push(ring);
    }
    Ok(out)
}

/// Properties that are non-empty strings (or numbers) on a feature.
fn names_of(feature: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(p) = feature.get("properties").and_then(Value::as_object) {
        for (k, v) in p {
            let s = match v {
                Value::String(s) => s.trim().to_string(),
                _ => continue,
            };
            if !s.is_empty() {
                out.insert(k.clone(), s);
            }
        }
    }
    out
}

/// Parses and validates an upload. `name_property`: the property holding
/// the names (`None`: detect it); `known`: the names in the data at this
/// level (to detect the property and to report unmatched names).
pub fn parse(
    bytes: &[u8],
    name_property: Option<&str>,
    level: Level,
    known: &HashSet<String>,
) -> Result<Boundaries, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "文件过大（上限{} MB） (the file is larger than {} MB)",
            MAX_BYTES / 1024 / 1024,
            MAX_BYTES / 1024 / 1024
        ));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!("不是有效的 GeoJSON（JSON 解析失败：{e}） (not valid GeoJSON: {e})")
    })?;
    if v.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(
            "GeoJSON 的 type 应为 FeatureCollection (the GeoJSON type must be FeatureCollection)"
                .into(),
        );
    }
    let features = v
        .get("features")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
        .ok_or("FeatureCollection 中没有要素 (the FeatureCollection has no features)")?;
    // The names of every feature, and the property to read them from.
    let props: Vec<BTreeMap<String, String>> = features.iter().map(names_of).collect();
    let property = match name_property.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => {
            if let Some(i) = props.iter().position(|m| !m.contains_key(p)) {
                return Err(format!(
                    "第{}个要素没有名称属性“{p}” (feature {} has no property {p:?})",
                    i + 1,
                    i + 1
                ));
            }
            p.to_string()
        }
        None => {
            let mut common: Vec<&String> = props[0].keys().collect();
            common.retain(|k| props.iter().all(|m| m.contains_key(*k)));
            if common.is_empty() {
                return Err("要素中没有共同的名称属性（每个要素都应有一个写着区县或街道名称的属性） (no property holds a name on every feature)".into());
            }
            let score = |k: &String| {
                let matched = props.iter().filter(|m| known.contains(&m[k])).count();
                let named = ["name", "NAME", "名称", "name_zh"].contains(&k.as_str());
                (matched, named)
            };
            let best = common
                .iter()
                .copied()
                .max_by(|a, b| score(a).cmp(&score(b)).then_with(|| b.cmp(a)))
                .expect("not empty");
            best.clone()
        }
    };
    let mut regions: Vec<Region> = Vec::new();
    let mut points = 0usize;
    for (i, f) in features.iter().enumerate() {
        let at = format!("第{}个要素", i + 1);
        let name = props[i][&property].clone();
        let g = f
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| format!("{at}没有几何图形 (feature {} has no geometry)", i + 1))?;
        let kind = g.get("type").and_then(Value::as_str).unwrap_or("");
        let coords = g.get("coordinates").unwrap_or(&Value::Null);
        let polys = match kind {
            "Polygon" => vec![polygon(coords, &at, &mut points)?],
            "MultiPolygon" => {
                let list = coords
                    .as_array()
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| format!("{at}：MultiPolygon 的坐标应为多边形数组 (feature {}: MultiPolygon coordinates are a list of polygons)", i + 1))?;
                list.iter()
                    .map(|p| polygon(p, &at, &mut points))
                    .collect::<Result<Vec<_>, _>>()?
            }
            other => {
                return Err(format!(
                    "{at}（{name}）的几何类型是“{other}”，只接受 Polygon 和 MultiPolygon (feature {} ({name}) is a {other:?}; only Polygon and MultiPolygon are accepted)",
                    i + 1
                ));
            }
        };
        match regions.iter_mut().find(|r| r.name == name) {
            Some(r) => r.polygons.extend(polys),
            None => {
                regions.push(Region {
                    name,
                    polygons: polys,
                });
                if regions.len() > MAX_REGIONS {
                    return Err(format!(
                        "区域超过{MAX_REGIONS}个 (more than {MAX_REGIONS} regions)"
                    ));
                }
            }
        }
    }
    Ok(Boundaries {
        level,
        name_property: property,
        regions,
        points,
    })
}

/// How the names of the regions meet the names in the data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Matching {
    /// Regions whose name is in the data.
    pub matched: Vec<String>,
    /// Regions whose name is not in the data (no figures on the map).
    pub unmatched: Vec<String>,
    /// Names in the data without a region (missing from the map).
    pub missing: Vec<String>,
}

pub fn matching(b: &Boundaries, known: &HashSet<String>) -> Matching {
    let mut m = Matching::default();
    let names: HashSet<&str> = b.regions.iter().map(|r| r.name.as_str()).collect();
    for r in &b.regions {
        if known.contains(&r.name) {
            m.matched.push(r.name.clone());
        } else {
            m.unmatched.push(r.name.clone());
        }
    }
    let mut missing: Vec<String> = known
        .iter()
        .filter(|k| !k.is_empty() && !names.contains(k.as_str()))
        .cloned()
        .collect();
    missing.sort();
    m.missing = missing;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        ["市南区", "市北区"].iter().map(|s| s.to_string()).collect()
    }

    fn fc(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[120.3,36.0],[120.4,36.0],[120.4,36.1],[120.3,36.1],[120.3,36.0]]]}"#;

    #[test]
    fn a_good_upload_is_read_and_names_are_detected() {
        let f = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"1","名称":"市南区"}},"geometry":{SQUARE}}},
               {{"type":"Feature","properties":{{"id":"2","名称":"市北区"}},"geometry":{{"type":"MultiPolygon","coordinates":[[[[120.3,36.1],[120.4,36.1],[120.4,36.2],[120.3,36.1]]],[[[120.5,36.1],[120.6,36.1],[120.6,36.2],[120.5,36.1]]]]}}}},
               {{"type":"Feature","properties":{{"id":"3","名称":"市南区"}},"geometry":{SQUARE}}}"#
        ));
        let b = parse(f.as_bytes(), None, Level::District, &known()).unwrap();
        assert_eq!(
            b.name_property, "名称",
            "the matching property wins over id"
        );
        assert_eq!(b.regions.len(), 2, "same name = one region");
        assert_eq!(b.regions[0].polygons.len(), 2);
        assert_eq!(b.regions[1].polygons.len(), 2);
        assert_eq!(b.points, 5 + 4 + 4 + 5);
        let m = matching(&b, &known());
        assert_eq!(m.matched, vec!["市南区", "市北区"]);
        assert!(m.unmatched.is_empty() && m.missing.is_empty());
        // An explicit property is used as given.
        let b = parse(f.as_bytes(), Some("id"), Level::District, &known()).unwrap();
        assert_eq!(b.regions.len(), 3);
        let m = matching(&b, &known());
        assert_eq!(m.unmatched, vec!["1", "2", "3"]);
        assert_eq!(m.missing, vec!["市北区", "市南区"]);
    }

    #[test]
    fn coordinates_are_rounded() {
        let f = fc(
            r#"{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"Polygon","coordinates":[[[120.123456789,36.987654321,12.5],[120.2,36.0],[120.3,36.1]]]}}"#,
        );
        let b = parse(f.as_bytes(), None, Level::District, &known()).unwrap();
        assert_eq!(b.regions[0].polygons[0][0][0], [120.12346, 36.98765]);
    }

    #[test]
    fn bad_uploads_are_refused_with_a_reason() {
        let k = known();
        let err = |s: &str| parse(s.as_bytes(), None, Level::District, &k).unwrap_err();
        assert!(err("garbage").contains("不是有效的 GeoJSON"));
        assert!(err(r#"{"type":"Feature"}"#).contains("FeatureCollection"));
        assert!(err(&fc("")).contains("没有要素"));
        let point = r#"{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"Point","coordinates":[120.3,36.0]}}"#;
        let e = err(&fc(point));
        assert!(e.contains("Point") && e.contains("市南区"), "{e}");
        let far = r#"{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"Polygon","coordinates":[[[200,36],[120,36],[120,37]]]}}"#;
        assert!(err(&fc(far)).contains("超出范围"));
        let short = r#"{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"Polygon","coordinates":[[[120,36],[120,37]]]}}"#;
        assert!(err(&fc(short)).contains("至少需要3个"));
        let nogeom = r#"{"type":"Feature","properties":{"name":"市南区"},"geometry":null}"#;
        assert!(err(&fc(nogeom)).contains("没有几何图形"));
        let noname =
            format!(r#"{{"type":"Feature","properties":{{"area":3}},"geometry":{SQUARE}}}"#);
        assert!(err(&fc(&noname)).contains("名称属性"));
        let f = fc(&format!(
            r#"{{"type":"Feature","properties":{{"name":"市南区"}},"geometry":{SQUARE}}}"#
        ));
        let e = parse(f.as_bytes(), Some("NAME"), Level::District, &k).unwrap_err();
        assert!(e.contains("NAME"), "{e}");
        let huge = vec![b' '; MAX_BYTES + 1];
        assert!(
            parse(&huge, None, Level::District, &k)
                .unwrap_err()
                .contains("过大")
        );
        let strings = r#"{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"Polygon","coordinates":[[["a","b"],[120,36],[120,37]]]}}"#;
        assert!(err(&fc(strings)).contains("超出范围"));
    }
}
