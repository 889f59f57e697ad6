//! A report table as every report produces it: the page renders it as HTML,
//! the export as `.xlsx` or CSV. Numbers stay numbers (rates as fractions
//! 0..1) so that the spreadsheet can format and sum them.

use serde::{Deserialize, Serialize};

/// One cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A rate as a fraction (0.953 = 95.3 %); `None` when undefined (0/0).
    Rate(Option<f64>),
    /// A change in percentage points or a relative change, as a fraction
    /// (+0.021 = +2.1 %); `None` when undefined.
    Change(Option<f64>),
    /// A plain decimal number (a score), shown with `decimals` digits.
    Number {
        value: Option<f64>,
        decimals: u8,
    },
    /// A rate's change in percentage points, as a fraction (+0.021 = +2.1
    /// 个百分点); `None` when undefined.
    Points(Option<f64>),
}

impl Cell {
    /// The cell as people read it on a page or in a CSV file.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Rate(Some(r)) => format!("{:.1}%", r * 100.0),
            Cell::Change(Some(c)) => format!("{:+.1}%", shown(c * 100.0)),
            // A change that shows as 0.0 is 0.0, not "-0.0".
            Cell::Points(Some(c)) => format!("{:+.1} 个百分点", shown(c * 100.0)),
            Cell::Rate(None)
            | Cell::Change(None)
            | Cell::Points(None)
            | Cell::Number { value: None, .. } => "—".into(),
            Cell::Number {
                value: Some(v),
                decimals,
            } => format!("{:.*}", *decimals as usize, v),
        }
    }
    /// Whether the cell is a number (right-aligned).
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// One column: a stable key (JSON, CSV header for machines) and the label
/// people read (Chinese).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub key: String,
    pub label: String,
}

impl Column {
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Column {
        Column {
            key: key.into(),
            label: label.into(),
        }
    }
}

/// A titled table; every row has one cell per column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: Vec<Column>) -> Table {
        Table {
            title: title.into(),
            columns,
            rows: Vec::new(),
        }
    }
    /// Appends a row; panics in debug builds when its width is wrong.
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width");
        self.rows.push(row);
    }
}

/// A value shown with one decimal: what rounds to ±0.0 is 0 (no "-0.0").
fn shown(v: f64) -> f64 {
    if v.abs() < 0.05 { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_display_as_people_read_them() {
        assert_eq!(Cell::Rate(Some(0.9534)).display(), "95.3%");
        assert_eq!(Cell::Rate(None).display(), "—");
        assert_eq!(Cell::Change(Some(0.021)).display(), "+2.1%");
        assert_eq!(Cell::Points(Some(0.005)).display(), "+0.5 个百分点");
        assert_eq!(Cell::Points(Some(-0.227)).display(), "-22.7 个百分点");
        assert_eq!(Cell::Points(Some(-0.0004)).display(), "+0.0 个百分点");
        assert_eq!(Cell::Change(Some(-0.0004)).display(), "+0.0%");
        assert_eq!(Cell::Change(Some(-0.5)).display(), "-50.0%");
        assert_eq!(Cell::Int(-3).display(), "-3");
        assert_eq!(
            Cell::Number {
                value: Some(91.256),
                decimals: 2
            }
            .display(),
            "91.26"
        );
        assert!(!Cell::Text("1".into()).is_numeric());
        assert!(Cell::Int(1).is_numeric());
        let mut t = Table::new("t", vec![Column::new("a", "甲")]);
        t.push(vec![Cell::Int(1)]);
        assert_eq!(t.rows.len(), 1);
    }
}
