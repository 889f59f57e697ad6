//! Every report table as a file: `.xlsx` (what offices open in WPS or
//! Excel) and CSV (UTF-8 with a BOM so that Excel reads the Chinese), and
//! the choice between them from `?format=` or the `Accept` header.
//!
//! Reports produce [`Table`]s (`service::table`); this module knows nothing
//! about any report. A handler does:
//!
//! ```ignore
//! match export::format_of(q.format.as_deref(), &headers)? {
//!     Format::Xlsx | Format::Csv => Ok(export::download(&tables, f, "KPI报表_2026-02")),
//!     Format::Json | Format::Html => … // its own JSON or page
//! }
//! ```
//!
//! The workbook: one sheet per table (named from its title, made valid and
//! unique), the header row in bold and frozen, with an autofilter and
//! repeated on every printed page (A4, page numbers in the footer); rates as
//! `0.0%`, changes as `+0.0%;-0.0%`, counts as `#,##0`, undefined figures as
//! empty cells. Column widths follow the content (a Chinese character counts
//! twice).
//!
//! CSV: RFC 4180 (CRLF, fields with `,` `"` CR or LF quoted, quotes
//! doubled); cells as people read them (`95.3%`, `+2.1%`), an undefined
//! figure empty; a text cell starting with `=`, `+`, `-`, `@`, tab or CR
//! gets a leading apostrophe so that a spreadsheet never runs it as a
//! formula (CSV injection). Several tables go one after another, each under
//! a line with its title, separated by an empty line.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format as XFormat, FormatBorder, Workbook, XlsxError};

use super::problem::ApiError;
use crate::error::{Error, Result};
use crate::service::table::{Cell, Table};

/// The MIME type of `.xlsx`.
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The MIME type of CSV as sent (UTF-8).
pub const CSV_MIME: &str = "text/csv; charset=utf-8";

/// Rows a sheet holds (Excel's limit, the header row included).
pub const MAX_SHEET_ROWS: usize = 1_048_576;
/// Characters a cell holds in Excel.
const MAX_CELL_CHARS: usize = 32_767;

/// What a report answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A page (a browser asked for HTML).
    Html,
    Json,
    Xlsx,
    Csv,
}

impl Format {
    pub fn is_file(self) -> bool {
        matches!(self, Format::Xlsx | Format::Csv)
    }
}

/// The format asked for: `?format=xlsx|csv|json|html` wins; otherwise the
/// `Accept` header (the xlsx MIME type, `text/csv`, `text/html`); otherwise
/// JSON. An unknown `format` is a 400.
pub fn format_of(query_format: Option<&str>, headers: &HeaderMap) -> Result<Format> {
    if let Some(f) = query_format.map(str::trim).filter(|f| !f.is_empty()) {
        return match f.to_ascii_lowercase().as_str() {
            "xlsx" | "excel" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            _ => Err(Error::BadRequest(
                "导出格式 format 须为 xlsx、csv 或 json (format must be xlsx, csv or json)".into(),
            )),
        };
    }
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    Ok(if types.contains(&XLSX_MIME) {
        Format::Xlsx
    } else if types.contains(&"text/csv") {
        Format::Csv
    } else if types.contains(&"text/html") {
        Format::Html
    } else {
        Format::Json
    })
}

/// How wide a text is in a spreadsheet column: a wide (CJK) character
/// counts twice.
fn text_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// Valid, unique sheet names (at most 31 UTF-16 units, none of `[]:*?/\`,
/// no apostrophe at either end, not blank, not `History`; unique ignoring
/// case) from the tables' titles.
pub fn sheet_names(titles: &[&str]) -> Vec<String> {
    fn cut(s: &str, max: usize) -> String {
        let mut out = String::new();
        let mut n = 0;
        for c in s.chars() {
            n += c.len_utf16();
            if n > max {
                break;
            }
            out.push(c);
        }
        out
    }
    let mut used: Vec<String> = vec![];
    let mut out = vec![];
    for (i, title) in titles.iter().enumerate() {
        let clean: String = title
            .chars()
            .map(|c| {
                if "[]:*?/\\".contains(c) || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let mut base = cut(clean.trim().trim_matches('\''), 31).trim().to_string();
        base = base.trim_matches('\'').to_string();
        if base.is_empty() {
            base = format!("Sheet{}", i + 1);
        }
        if base.eq_ignore_ascii_case("history") {
            base.push('_');
        }
        let mut name = base.clone();
        let mut k = 2;
        while used.iter().any(|u| u.to_lowercase() == name.to_lowercase()) {
            let suffix = format!("({k})");
            name = format!("{}{suffix}", cut(&base, 31 - suffix.len()));
            k += 1;
        }
        used.push(name.clone());
        out.push(name);
    }
    out
}

fn xlsx_error(e: XlsxError) -> Error {
    Error::internal(format!("xlsx: {e}"))
}

/// The tables as an `.xlsx` workbook, one sheet per table.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let head = XFormat::new()
        .set_bold()
        .set_background_color(0xE8EEF6)
        .set_border_bottom(FormatBorder::Thin);
    let rate = XFormat::new().set_num_format("0.0%");
    let change = XFormat::new().set_num_format("+0.0%;-0.0%;0.0%");
    let points =
        XFormat::new().set_num_format("+0.0\" 个百分点\";-0.0\" 个百分点\";0.0\" 个百分点\"");
    let int = XFormat::new().set_num_format("#,##0");
    let decimals: Vec<XFormat> = (0..=6)
        .map(|d| {
            let f = if d == 0 {
                "0".to_string()
            } else {
                format!("0.{}", "0".repeat(d))
            };
            XFormat::new().set_num_format(f)
        })
        .collect();
    let titles: Vec<&str> = tables.iter().map(|t| t.title.as_str()).collect();
    let names = sheet_names(&titles);
    if tables.is_empty() {
        // A workbook has at least one sheet.
        wb.add_worksheet();
    }
    for (t, name) in tables.iter().zip(names) {
        if t.rows.len() + 1 > MAX_SHEET_ROWS {
            return Err(Error::BadRequest(format!(
                "表格行数超过 Excel 上限 {MAX_SHEET_ROWS} 行，请缩小范围 (too many rows for one sheet; narrow the report)"
            )));
        }
        let ws = wb.add_worksheet();
        ws.set_name(&name).map_err(xlsx_error)?;
        let mut widths: Vec<usize> = t.columns.iter().map(|c| text_width(&c.label)).collect();
        for (c, col) in t.columns.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, &col.label, &head)
                .map_err(xlsx_error)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = (r + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let col = c as u16;
                let res = match cell {
                    Cell::Text(s) => {
                        if s.is_empty() {
                            continue;
                        }
                        let s: String = if s.chars().count() > MAX_CELL_CHARS {
                            s.chars().take(MAX_CELL_CHARS).collect()
                        } else {
                            s.clone()
                        };
                        ws.write_string(r, col, s)
                    }
                    Cell::Int(n) => ws.write_number_with_format(r, col, *n as f64, &int),
                    Cell::Rate(Some(v)) => ws.write_number_with_format(r, col, *v, &rate),
                    Cell::Change(Some(v)) => ws.write_number_with_format(r, col, *v, &change),
                    Cell::Points(Some(v)) => {
                        ws.write_number_with_format(r, col, *v * 100.0, &points)
                    }
                    Cell::Number {
                        value: Some(v),
                        decimals: d,
                    } => ws.write_number_with_format(
                        r,
                        col,
                        *v,
                        &decimals[usize::from(*d).min(decimals.len() - 1)],
                    ),
                    Cell::Rate(None)
                    | Cell::Change(None)
                    | Cell::Points(None)
                    | Cell::Number { value: None, .. } => {
                        continue;
                    }
                };
                res.map_err(xlsx_error)?;
                // Widths from the first rows are enough (and cheap).
                if r <= 1000
                    && let Some(w) = widths.get_mut(c)
                {
                    *w = (*w).max(text_width(&cell.display()));
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            let w = (*w as f64 + 2.0).clamp(6.0, 60.0);
            ws.set_column_width(c as u16, w).map_err(xlsx_error)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        if !t.columns.is_empty() {
            ws.autofilter(0, 0, t.rows.len() as u32, (t.columns.len() - 1) as u16)
                .map_err(xlsx_error)?;
        }
        ws.set_paper_size(9); // A4
        if t.columns.len() > 8 {
            ws.set_landscape();
        }
        ws.set_repeat_rows(0, 0).map_err(xlsx_error)?;
        ws.set_footer("&C&P / &N");
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// Whether a text cell would be read as a formula by a spreadsheet.
fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// A cell as CSV text (before quoting).
fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) if formula_like(s) => format!("'{s}"),
        Cell::Text(s) => s.clone(),
        Cell::Rate(None)
        | Cell::Change(None)
        | Cell::Points(None)
        | Cell::Number { value: None, .. } => String::new(),
        other => other.display(),
    }
}

fn csv_rows(out: &mut String, t: &Table) {
    let line = |out: &mut String, fields: &mut dyn Iterator<Item = String>| {
        for (i, f) in fields.enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(out, &f);
        }
        out.push_str("\r\n");
    };
    line(
        out,
        &mut t.columns.iter().map(|c| {
            if formula_like(&c.label) {
                format!("'{}", c.label)
            } else {
                c.label.clone()
            }
        }),
    );
    for row in &t.rows {
        line(out, &mut row.iter().map(csv_text));
    }
}

/// One table as CSV: a BOM, the header row (the labels people read), then
/// the rows.
pub fn csv(table: &Table) -> Vec<u8> {
    csv_many(std::slice::from_ref(table))
}

/// Several tables in one CSV file: one table as [`csv`]; more, each under a
/// line with its title and separated by an empty line.
pub fn csv_many(tables: &[Table]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let titled = tables.len() > 1;
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        if titled {
            csv_field(&mut out, &csv_text(&Cell::Text(t.title.clone())));
            out.push_str("\r\n");
        }
        csv_rows(&mut out, t);
    }
    out.into_bytes()
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>`:
/// the ASCII fallback keeps letters, digits, `-`, `_` and `.` of the name.
pub fn content_disposition(filename: &str) -> String {
    let (stem, ext) = match filename.rsplit_once('.') {
        Some((s, e)) if !e.is_empty() && e.is_ascii() => (s, format!(".{e}")),
        _ => (filename, String::new()),
    };
    let mut ascii = String::new();
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || "-_.".contains(c) {
            c
        } else {
            '_'
        };
        if !(c == '_' && (ascii.is_empty() || ascii.ends_with('_'))) {
            ascii.push(c);
        }
    }
    let ascii = ascii.trim_matches(['_', '.']);
    let ascii = if ascii.is_empty() { "report" } else { ascii };
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}{ext}\"; filename*=UTF-8''{encoded}")
}

fn file_response(bytes: Vec<u8>, mime: &str, filename: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&content_disposition(filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// The tables as a download named `<filename_stem>.xlsx` / `.csv`; JSON
/// (the tables themselves) for `Json` and `Html`. An export that fails
/// answers a problem.
pub fn download(tables: &[Table], format: Format, filename_stem: &str) -> Response {
    let stem = filename_stem.trim();
    let stem = if stem.is_empty() { "report" } else { stem };
    match format {
        Format::Xlsx => match xlsx(tables) {
            Ok(b) => file_response(b, XLSX_MIME, &format!("{stem}.xlsx")),
            Err(e) => ApiError(e).into_response(),
        },
        Format::Csv => file_response(csv_many(tables), CSV_MIME, &format!("{stem}.csv")),
        Format::Json | Format::Html => axum::Json(tables).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::table::Column;

    fn sample() -> Table {
        let mut t = Table::new(
            "KPI: 按单位/2026-02",
            vec![
                Column::new("label", "单位"),
                Column::new("intake", "受理量"),
                Column::new("rate", "按时签收率"),
                Column::new("change", "变化"),
                Column::new("score", "得分"),
            ],
        );
        t.push(vec![
            Cell::Text("城管局".into()),
            Cell::Int(12345),
            Cell::Rate(Some(0.953)),
            Cell::Change(Some(-0.021)),
            Cell::Number {
                value: Some(91.256),
                decimals: 2,
            },
        ]);
        t.push(vec![
            Cell::Text("=HYPERLINK(\"x\")".into()),
            Cell::Int(-3),
            Cell::Rate(None),
            Cell::Change(None),
            Cell::Number {
                value: None,
                decimals: 1,
            },
        ]);
        t.push(vec![
            Cell::Text("a,b \"c\"\nd".into()),
            Cell::Int(0),
            Cell::Rate(Some(1.0)),
            Cell::Change(Some(0.0)),
            Cell::Number {
                value: Some(7.0),
                decimals: 0,
            },
        ]);
        t
    }

    #[test]
    fn formats_from_query_and_accept() {
        let mut h = HeaderMap::new();
        assert_eq!(format_of(None, &h).unwrap(), Format::Json);
        assert_eq!(format_of(Some("XLSX"), &h).unwrap(), Format::Xlsx);
        assert_eq!(format_of(Some("csv"), &h).unwrap(), Format::Csv);
        assert_eq!(format_of(Some(""), &h).unwrap(), Format::Json);
        assert!(matches!(
            format_of(Some("pdf"), &h),
            Err(Error::BadRequest(_))
        ));
        h.insert(header::ACCEPT, HeaderValue::from_static(XLSX_MIME));
        assert_eq!(format_of(None, &h).unwrap(), Format::Xlsx);
        // The query wins over the header.
        assert_eq!(format_of(Some("json"), &h).unwrap(), Format::Json);
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/csv;q=0.9, */*"),
        );
        assert_eq!(format_of(None, &h).unwrap(), Format::Csv);
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert_eq!(format_of(None, &h).unwrap(), Format::Html);
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(format_of(None, &h).unwrap(), Format::Json);
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let long = "很长的标题".repeat(10);
        let names = sheet_names(&[
            "a/b:c",
            "",
            "'quoted'",
            "History",
            &long,
            &long,
            "A/B:C",
            "😀".repeat(20).as_str(),
        ]);
        assert_eq!(names[0], "a_b_c");
        assert_eq!(names[1], "Sheet2");
        assert_eq!(names[2], "quoted");
        assert_eq!(names[3], "History_");
        assert_eq!(names[4].chars().count(), 31);
        assert!(names[5].ends_with("(2)"), "{}", names[5]);
        assert_eq!(names[6], "A_B_C(2)");
        for n in &names {
            rust_xlsxwriter::utility::check_sheet_name(n).unwrap();
            assert!(n.encode_utf16().count() <= 31);
        }
        let lower: std::collections::HashSet<String> =
            names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), names.len());
    }

    #[test]
    fn csv_has_bom_crlf_quoting_and_no_formulas() {
        let t = sample();
        let b = csv(&t);
        assert!(b.starts_with(&[0xEF, 0xBB, 0xBF]));
        let s = String::from_utf8(b[3..].to_vec()).unwrap();
        let lines: Vec<&str> = s.split("\r\n").collect();
        assert_eq!(lines[0], "单位,受理量,按时签收率,变化,得分");
        assert_eq!(lines[1], "城管局,12345,95.3%,-2.1%,91.26");
        assert_eq!(lines[2], "\"'=HYPERLINK(\"\"x\"\")\",-3,,,");
        assert_eq!(lines[3], "\"a,b \"\"c\"\"\nd\",0,100.0%,+0.0%,7");
        assert_eq!(lines[4], "");
        assert_eq!(lines.len(), 5);
        for bad in ["+1", "-x", "@SUM(A1)", "\tx"] {
            assert!(csv_text(&Cell::Text(bad.into())).starts_with('\''));
        }
        assert_eq!(csv_text(&Cell::Text("1+1".into())), "1+1");
        // Several tables: titled blocks.
        let two = String::from_utf8(csv_many(&[t.clone(), t])).unwrap();
        assert!(two.starts_with("\u{feff}KPI: 按单位/2026-02\r\n单位,"));
        assert_eq!(two.matches("\r\n\r\nKPI: 按单位/2026-02\r\n").count(), 1);
    }

    #[test]
    fn content_disposition_has_an_ascii_fallback() {
        assert_eq!(
            content_disposition("KPI报表_2026-02.xlsx"),
            "attachment; filename=\"KPI_2026-02.xlsx\"; filename*=UTF-8''KPI%E6%8A%A5%E8%A1%A8_2026-02.xlsx"
        );
        assert!(
            content_disposition("考核排名.csv").starts_with("attachment; filename=\"report.csv\"")
        );
        // Quotes and separators never reach the fallback.
        let d = content_disposition("a\"; b.csv");
        assert!(d.starts_with("attachment; filename=\"a_b.csv\""), "{d}");
    }

    #[test]
    fn xlsx_is_a_zip_with_one_sheet_per_table() {
        let b = xlsx(&[sample(), sample()]).unwrap();
        assert!(b.starts_with(b"PK"));
        let empty = xlsx(&[]).unwrap();
        assert!(empty.starts_with(b"PK"));
        let r = download(&[sample()], Format::Csv, "统计");
        assert_eq!(r.headers()[header::CONTENT_TYPE], CSV_MIME);
        let r = download(&[sample()], Format::Xlsx, "");
        assert_eq!(r.headers()[header::CONTENT_TYPE], XLSX_MIME);
        assert!(
            r.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("report.xlsx")
        );
    }
}
