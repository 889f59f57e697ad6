//! The ticket (工单), its number, its timeline events and the validation of
//! what an operator types at intake (PRODUCT.md §3).
//!
//! Records are persisted with postcard, which stores enum variants by their
//! position: variants are only ever appended, never reordered or removed.

use serde::{Deserialize, Serialize};

use super::types::{AppealType, Channel, Satisfaction, State, Supervision, Urgency};

/// A ticket number: `YYYYMMDD-NNNNNN` (local creation date, then a sequence
/// within the day), kept as the integer `YYYYMMDDNNNNNN` so that numbers sort
/// by creation and serve as storage keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TicketNo(pub u64);

pub const SEQ_PER_DAY: u64 = 1_000_000;

/// `c` as an ASCII digit, folding full-width digits (`０`…`９`).
pub fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '\u{FF10}'..='\u{FF19}' => char::from_u32(c as u32 - 0xFF10 + u32::from(b'0')),
        _ => None,
    }
}

/// Digits only: `s` with full-width digits folded to ASCII, or `None`
/// when it holds anything but digits and spaces (the last four digits of a
/// phone typed on a Chinese keyboard).
pub fn fold_digits(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        match ascii_digit(c) {
            Some(d) => out.push(d),
            None if c.is_whitespace() => {}
            None => return None,
        }
    }
    Some(out)
}

/// The digits of (part of) a ticket number as typed, separators and
/// full-width forms folded (`"1205－0000"` → `"12050000"`); `None` when
/// it holds anything else. [`TicketNo::parse`] and the list's search for
/// a partial number both read numbers through it.
pub fn number_digits(s: &str) -> Option<String> {
    let mut digits = String::with_capacity(14);
    for c in s.chars() {
        if let Some(d) = ascii_digit(c) {
            digits.push(d);
        } else if !is_number_separator(c) {
            return None;
        }
    }
    Some(digits)
}

/// What may stand between the digits of a ticket number: hyphens and
/// dashes of every width, and spaces.
fn is_number_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'
                ..='\u{2015}'
                    | '\u{2212}'
                    | '\u{FE58}'
                    | '\u{FE63}'
                    | '\u{FF0D}'
                    | '\u{30FC}'
                    | '_'
        )
}

impl TicketNo {
    pub fn new(yyyymmdd: u32, seq: u32) -> Self {
        TicketNo(u64::from(yyyymmdd) * SEQ_PER_DAY + u64::from(seq))
    }
    pub fn day(self) -> u32 {
        (self.0 / SEQ_PER_DAY) as u32
    }
    pub fn seq(self) -> u32 {
        (self.0 % SEQ_PER_DAY) as u32
    }
    /// The first possible number of a day (sequence 0, never issued).
    pub fn day_start(yyyymmdd: u32) -> Self {
        TicketNo::new(yyyymmdd, 0)
    }
    /// Parses a ticket number in every form a person types it:
    /// `20261122-000123`, without the hyphen (`20261122000123`), with a
    /// full-width or other dash (`－ — – ‐ −`), with spaces (ASCII,
    /// full-width, no-break) anywhere, or in full-width digits. The one
    /// parser of ticket numbers: the public lookup, the ticket list, the
    /// API and the knowledge base all call it.
    pub fn parse(s: &str) -> Option<Self> {
        let digits = number_digits(s)?;
        if digits.len() != 14 {
            return None;
        }
        let (d, n) = digits.split_at(8);
        let day: u32 = d.parse().ok()?;
        let (y, m, dd) = (day / 10000, day / 100 % 100, day % 100);
        jiff::civil::Date::new(y as i16, m as i8, dd as i8).ok()?;
        let seq: u32 = n.parse().ok()?;
        if seq == 0 {
            return None;
        }
        Some(TicketNo::new(day, seq))
    }
    /// `YYYYMMDD` of a civil date.
    pub fn day_of(date: jiff::civil::Date) -> u32 {
        date.year() as u32 * 10000 + date.month() as u32 * 100 + date.day() as u32
    }
}

impl std::fmt::Display for TicketNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08}-{:06}", self.day(), self.seq())
    }
}

/// A stored file, addressed by the SHA-256 of its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// What the current stage waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageKind {
    /// The unit must sign for the ticket.
    SignFor,
    /// The unit must reply.
    Handle,
}

/// The current stage and its deadline (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub kind: StageKind,
    pub started_at: i64,
    pub due_at: i64,
    pub by_hours: bool,
    /// The most severe card already recorded for this stage.
    pub card: Option<Supervision>,
}

/// One ticket: every field of PRODUCT.md §3. Times are unix seconds (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNo,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: u32,
    pub channel: Channel,
    pub appeal_type: AppealType,
    pub category_code: String,
    pub caller_phone: String,
    pub caller_name: String,
    pub anonymous: bool,
    pub confidential: bool,
    pub district: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub coordinates: Option<(f64, f64)>,
    pub title: String,
    pub content: String,
    pub urgency: Urgency,
    /// The answer given at intake (consultations), or "".
    pub answer: String,
    pub attachments: Vec<Attachment>,
    pub state: State,
    /// The unit that holds the ticket now.
    pub unit_id: Option<u32>,
    /// Every unit the ticket has ever been assigned to (department scope).
    pub units_seen: Vec<u32>,
    pub stage: Option<Stage>,
    /// The deadline of the whole round (total period).
    pub due_at: Option<i64>,
    /// 1 for the first round; +1 for each reopening.
    pub round: u16,
    pub closed_at: Option<i64>,
    pub satisfaction: Option<Satisfaction>,
    /// Number of timeline events (the next event's sequence number).
    pub event_count: u32,
    // ---- schema v2 ----
    /// Sent back to the same unit by the review: can no longer be returned
    /// at sign-for (rule 3).
    pub returned_ticket: bool,
    /// Units assisting the lead unit (they see the ticket; the lead acts).
    pub assisting: Vec<u32>,
    /// The level-2 unit that handed the ticket down (rule 5).
    pub handed_by: Option<u32>,
    /// Callback attempts that reached nobody.
    pub callback_attempts: u8,
    /// A pending extension request.
    pub extension: Option<ExtensionRequest>,
    /// The master ticket this one was merged into.
    pub master: Option<TicketNo>,
    /// Tickets merged into this one (their callers are called back too).
    pub merged: Vec<TicketNo>,
    /// The department's latest reply (the public answer).
    pub reply: String,
    /// Whether the citizen said the problem was resolved.
    pub resolved: Option<bool>,
}

/// An extension a department asked for, waiting for the team lead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    /// The deadline asked for (unix seconds, 23:59:59 of a working day).
    pub until: i64,
    pub requested_at: i64,
    pub requested_by: u32,
    pub reason: String,
}

impl Ticket {
    /// Whether department users may see who called.
    pub fn identity_hidden_from_departments(&self) -> bool {
        self.appeal_type == AppealType::Report || self.confidential || self.anonymous
    }

    /// A word match on title, content, answer and address (the simple
    /// search of the foundation; full-text search replaces it).
    pub fn mentions(&self, words: &[String]) -> bool {
        words.iter().all(|w| {
            self.title.contains(w.as_str())
                || self.content.contains(w.as_str())
                || self.answer.contains(w.as_str())
                || self.address.contains(w.as_str())
        })
    }
}

/// What happened, in the timeline. Append variants only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    /// Registered at intake.
    Created,
    /// Answered on the spot and closed at intake.
    AnsweredAtIntake {
        answer: String,
    },
    /// Dispatched to a unit; the stage and total deadlines (unix seconds).
    Dispatched {
        unit_id: u32,
        stage_due: i64,
        due: i64,
    },
    /// A card was reached at `at` (recorded by the sweep, maybe later).
    CardReached {
        card: Supervision,
    },
    /// A free-form note.
    Note,
    /// The unit signed for the ticket; the handling stage starts.
    SignedFor {
        stage_due: i64,
    },
    /// The unit returned the ticket at sign-for (reason in `note`).
    Returned {
        unit_id: u32,
    },
    /// A level-2 unit handed the ticket down to a level-3 unit.
    HandedDown {
        unit_id: u32,
        stage_due: i64,
    },
    /// A progress note of the handling unit.
    Progress,
    /// The unit replied with its result.
    Replied {
        result: String,
    },
    /// A level-2 unit approved (or sent back) its level-3 unit's reply.
    ReplyApproved {
        approved: bool,
    },
    /// The center's review: pass, transfer to `unit_id`, or back to the same unit.
    Reviewed {
        outcome: String,
        unit_id: Option<u32>,
        period_days: Option<u32>,
    },
    /// A callback to the citizen.
    CallbackRecorded {
        satisfaction: Satisfaction,
        resolved: bool,
    },
    /// Reopened (重办) to a unit for a new round.
    Reopened {
        unit_id: u32,
        round: u16,
    },
    /// Closed (by the callback or by the team lead, reason in `note`).
    Closed,
    /// Voided with a reason.
    Voided,
    /// Merged under a master ticket.
    Merged {
        master: TicketNo,
    },
    /// An extension was requested (until `until`) or decided.
    ExtensionRequested {
        until: i64,
    },
    ExtensionDecided {
        approved: bool,
        until: Option<i64>,
    },
    /// Another ticket was merged into this one.
    MergedIn {
        child: TicketNo,
    },
    /// Sampled for a callback after being answered at intake.
    SampledForCallback,
    /// The dispatcher sent the ticket back to the operator for correction
    /// (reason in `note`); it stays pending dispatch.
    SentBackToOperator,
    /// Fields corrected before dispatch: `changes` lists them, old → new.
    Corrected {
        changes: String,
    },
    /// A team lead acknowledged the alarm of an emergency waiting for
    /// sign-for, for the center (`domain::alarm`); appended: variants are
    /// stored by position.
    AlarmAcknowledged,
    /// A unit above the holder urged it (催办; the message in `note`);
    /// `unit_id` is the urged unit.
    Urged {
        unit_id: u32,
    },
    /// A unit above the holder took the ticket back (收回) from `unit_id`
    /// and handles it itself.
    TakenBack {
        unit_id: u32,
    },
}

/// One entry of the append-only timeline (一事一档).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: i64,
    /// The user who acted; 0 for the system.
    pub actor: u32,
    pub kind: EventKind,
    /// Why, in the actor's words.
    pub note: String,
}

/// A field-level validation failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Normalises a phone number as typed (spaces, dashes, `+86`) to digits.
/// Accepts mobile numbers (11 digits, `1[3-9]…`), landlines with area code
/// and short service numbers (5–15 digits).
pub fn normalize_phone(raw: &str) -> Result<String, String> {
    let mut s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{3000}'))
        .collect();
    if let Some(rest) = s.strip_prefix("+86") {
        s = rest.to_string();
    } else if let Some(rest) = s.strip_prefix("0086") {
        s = rest.to_string();
    }
    if s.is_empty() {
        return Ok(s);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("电话号码只能包含数字 (phone number must be digits)".into());
    }
    if !(5..=15).contains(&s.len()) {
        return Err("电话号码应为5到15位数字 (phone number must have 5–15 digits)".into());
    }
    if s.starts_with('1') && s.len() == 11 && !matches!(s.as_bytes()[1], b'3'..=b'9') {
        return Err("手机号码格式不正确 (not a valid mobile number)".into());
    }
    if s.starts_with('1') && s.len() != 11 && s.len() > 8 {
        return Err("手机号码应为11位 (mobile numbers have 11 digits)".into());
    }
    Ok(s)
}

/// Checks a single-line text field: trimmed, no control characters, at
/// most `max` characters. Returns the trimmed text.
pub fn clean_line(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "不能包含控制字符 (control characters are not allowed)",
        ));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("最多{max}个字符 (at most {max} characters)"),
        ));
    }
    v.to_string()
}

/// Like [`clean_line`] for multi-line text: newlines and tabs are allowed,
/// `\r\n` becomes `\n`.
pub fn clean_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim().replace("\r\n", "\n");
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.push(FieldError::new(
            field,
            "不能包含控制字符 (control characters are not allowed)",
        ));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("最多{max}个字符 (at most {max} characters)"),
        ));
    }
    v
}

/// Limits of intake fields, in characters.
pub mod limits {
    pub const TITLE: usize = 100;
    pub const CONTENT: usize = 5000;
    pub const NAME: usize = 50;
    pub const PLACE: usize = 50;
    pub const ADDRESS: usize = 200;
    pub const ANSWER: usize = 5000;
    pub const REASON: usize = 1000;
}

/// A title from the content when the operator left it empty: the first line,
/// at most 30 characters.
pub fn derive_title(content: &str) -> String {
    let first = content.lines().next().unwrap_or("").trim();
    let t: String = first.chars().take(30).collect();
    if first.chars().count() > 30 {
        format!("{t}…")
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let n = TicketNo::new(20261122, 123);
        assert_eq!(n.to_string(), "20261122-000123");
        assert_eq!(TicketNo::parse("20261122-000123"), Some(n));
        // Every form a phone keyboard produces.
        for typed in [
            "20261122000123",
            " 20261122-000123 ",
            "20261122－000123",
            "20261122—000123",
            "20261122–000123",
            "20261122−000123",
            "20261122 000123",
            "20261122\u{3000}000123",
            "2026 1122 000123",
            "２０２６１１２２－０００１２３",
            "２０２６１１２２０００１２３",
        ] {
            assert_eq!(TicketNo::parse(typed), Some(n), "{typed:?}");
        }
        assert_eq!(n.day(), 20261122);
        assert_eq!(n.seq(), 123);
        assert!(TicketNo::new(20261122, 2) > TicketNo::new(20261121, 999_999));
        for bad in [
            "",
            "2026112-000123",
            "20261122-00012",
            "20261322-000001",
            "20261122-000000",
            "20261122x000001",
            "２０２６",
            "2026112200012",
            "202611220001234",
            "20261122/000123",
            "No.20261122-000123",
        ] {
            assert_eq!(TicketNo::parse(bad), None, "{bad}");
        }
        assert_eq!(TicketNo::day_of(jiff::civil::date(2026, 1, 5)), 20260105);
        assert_eq!(fold_digits("１２３4").as_deref(), Some("1234"));
        assert_eq!(fold_digits("12a4"), None);
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("138 1234 1234").unwrap(), "13812341234");
        assert_eq!(normalize_phone("+86 138-1234-1234").unwrap(), "13812341234");
        assert_eq!(normalize_phone("0532-88776655").unwrap(), "053288776655");
        assert_eq!(normalize_phone("95598").unwrap(), "95598");
        assert_eq!(normalize_phone("").unwrap(), "");
        assert!(normalize_phone("12012341234").is_err());
        assert!(normalize_phone("1381234123").is_err());
        assert!(normalize_phone("abc").is_err());
        assert!(normalize_phone("1234").is_err());
        assert!(normalize_phone("<script>").is_err());
        assert!(normalize_phone("1234567890123456").is_err());
    }

    #[test]
    fn text_cleaning() {
        let mut e = vec![];
        assert_eq!(clean_line("t", "  标题 ", 10, &mut e), "标题");
        assert!(e.is_empty());
        clean_line("t", "a\u{0007}b", 10, &mut e);
        assert_eq!(e.len(), 1);
        clean_line("t", "一二三四五六七八九十一", 10, &mut e);
        assert_eq!(e.len(), 2);
        clean_line("t", "a\nb", 10, &mut e);
        assert_eq!(e.len(), 3);
        let mut e = vec![];
        assert_eq!(clean_text("c", "a\r\nb\tc", 10, &mut e), "a\nb\tc");
        assert!(e.is_empty());
        clean_text("c", "a\u{0000}", 10, &mut e);
        assert_eq!(e[0].field, "c");
    }

    #[test]
    fn titles() {
        assert_eq!(derive_title("小区停水\n已经两天"), "小区停水");
        let long = "一".repeat(40);
        assert_eq!(derive_title(&long).chars().count(), 31);
    }

    #[test]
    fn record_round_trips_through_postcard() {
        let t = Ticket {
            number: TicketNo::new(20261122, 1),
            created_at: 1,
            updated_at: 2,
            created_by: 3,
            channel: Channel::Wechat,
            appeal_type: AppealType::Report,
            category_code: "0101".into(),
            caller_phone: "13812341234".into(),
            caller_name: "张三".into(),
            anonymous: false,
            confidential: true,
            district: "市南区".into(),
            street: "八大关街道".into(),
            community: "".into(),
            address: "香港中路1号".into(),
            coordinates: Some((36.0, 120.3)),
            title: "t".into(),
            content: "c".into(),
            urgency: Urgency::Urgent,
            answer: "".into(),
            attachments: vec![],
            state: State::InProgress,
            unit_id: Some(4),
            units_seen: vec![4],
            stage: Some(Stage {
                kind: StageKind::Handle,
                started_at: 1,
                due_at: 5,
                by_hours: false,
                card: Some(Supervision::Yellow),
            }),
            due_at: Some(9),
            round: 1,
            closed_at: None,
            satisfaction: None,
            event_count: 2,
            returned_ticket: false,
            assisting: vec![],
            handed_by: None,
            callback_attempts: 0,
            extension: None,
            master: None,
            merged: vec![],
            reply: String::new(),
            resolved: None,
        };
        let bytes = postcard::to_stdvec(&t).unwrap();
        let back: Ticket = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(t, back);
        assert!(t.identity_hidden_from_departments());
        assert!(t.mentions(&["香港中路".into()]));
        assert!(!t.mentions(&["香港中路".into(), "停水".into()]));
    }
}
