//! Registering, finding and reading tickets, and dispatching them.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::{EventView, TicketView, supervision_of};
use super::{Actor, Directory, Services};
use crate::domain::permissions::{Permission, Scope};
use crate::domain::supervision::due_window;
use crate::domain::ticket::*;
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::store::ScanSource;

/// An attachment to link to a new ticket, uploaded before with
/// `POST /api/v1/attachments`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct AttachmentRef {
    pub sha256: String,
    pub name: String,
}

/// A new ticket, as an operator registers it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct NewTicket {
    pub caller_phone: String,
    pub caller_name: String,
    pub anonymous: bool,
    pub confidential: bool,
    /// Default `phone`.
    pub channel: Option<String>,
    pub appeal_type: String,
    pub category_code: String,
    pub district: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub title: String,
    pub content: String,
    /// Default `normal` (`emergency` for emergency repairs).
    pub urgency: Option<String>,
    /// Present (non-empty) on a consultation: answered on the spot, closed.
    pub answer: Option<String>,
    pub attachments: Vec<AttachmentRef>,
}

/// The multi-criteria ticket query (seed 001). Every field is optional;
/// empty strings are ignored so that HTML forms can submit them as they are.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// Exact ticket number.
    pub number: Option<String>,
    /// From this date (`YYYY-MM-DD`, local) or instant (RFC 3339), inclusive.
    pub from: Option<String>,
    /// To this date (inclusive) or instant (exclusive).
    pub to: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    /// Words in the address.
    pub address: Option<String>,
    pub caller_phone: Option<String>,
    pub caller_name: Option<String>,
    pub appeal_type: Option<String>,
    /// A category code; its sub-categories are included.
    pub category: Option<String>,
    /// Words that must all appear in title, content, answer or address.
    pub q: Option<String>,
    /// The unit that holds the ticket now (its sub-units included).
    pub unit_id: Option<String>,
    /// One state or several, comma-separated; `open` for every unfinished state.
    pub state: Option<String>,
    pub supervision: Option<String>,
    /// `pending` (awaiting callback), or a satisfaction value.
    pub callback: Option<String>,
    pub channel: Option<String>,
    pub urgency: Option<String>,
    /// `newest` (default) or `oldest`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// True when the scan stopped at its budget before filling the page:
    /// narrow the query (time range, district, …) or follow `next_cursor`.
    pub partial: bool,
    /// How many tickets match from this page on (this page included),
    /// counted within the scan budget; see `total_capped`.
    pub total: u64,
    /// The count stopped at the scan budget: there are at least `total`.
    pub total_capped: bool,
}

/// The longest scan one list request may make before answering.
pub const SCAN_BUDGET: u64 = 200_000;

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_enum<T>(
    field: &str,
    v: &str,
    parse: impl Fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let r = parse(v);
    if r.is_none() {
        errors.push(FieldError::new(
            field,
            format!("无效的取值“{v}” (unknown value {v})"),
        ));
    }
    r
}

/// A parsed and checked query.
struct Plan {
    lo: TicketNo,
    hi: TicketNo,
    from_s: Option<i64>,
    to_s: Option<i64>,
    desc: bool,
    limit: usize,
    source: ScanSource,
    states: Option<Vec<State>>,
    supervision: Option<Supervision>,
    phone: Option<String>,
    name: Option<String>,
    appeal: Option<AppealType>,
    channel: Option<Channel>,
    urgency: Option<Urgency>,
    categories: Option<Vec<String>>,
    district: Option<String>,
    street: Option<String>,
    address: Option<String>,
    words: Vec<String>,
    units: Option<Vec<u32>>,
    callback: Option<Option<Satisfaction>>,
    /// Digits the number must contain (a partial number).
    digits: Option<String>,
}

/// A date (local day bounds) or an instant.
fn parse_bound(
    field: &str,
    v: &str,
    end: bool,
    dir: &Directory,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    let tz = dir.settings.tz();
    if let Ok(d) = v.parse::<jiff::civil::Date>() {
        let day = if end { d.tomorrow().ok()? } else { d };
        return day
            .to_zoned(tz)
            .ok()
            .map(|z| z.timestamp().as_second() - i64::from(end));
    }
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Some(t.as_second() - i64::from(end));
    }
    errors.push(FieldError::new(
        field,
        "日期格式应为 YYYY-MM-DD 或 RFC 3339 (use YYYY-MM-DD or an RFC 3339 time)",
    ));
    None
}

fn local_day(secs: i64, dir: &Directory) -> u32 {
    let t = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    TicketNo::day_of(t.to_zoned(dir.settings.tz()).date())
}

impl Services {
    fn plan(&self, actor: &Actor, q: &TicketQuery, dir: &Directory) -> Result<Plan> {
        let mut errors = vec![];
        let from_s =
            nonempty(&q.from).and_then(|v| parse_bound("from", v, false, dir, &mut errors));
        let to_s = nonempty(&q.to).and_then(|v| parse_bound("to", v, true, dir, &mut errors));
        let mut lo = from_s
            .map(|s| TicketNo::day_start(local_day(s, dir)))
            .unwrap_or(TicketNo(0));
        let mut hi = to_s
            .map(|s| TicketNo::day_start(local_day(s, dir) + 1))
            .map(|n| TicketNo(n.0 - 1))
            .unwrap_or(TicketNo(u64::MAX));
        let desc = match nonempty(&q.sort) {
            None | Some("newest") => true,
            Some("oldest") => false,
            Some(o) => {
                errors.push(FieldError::new(
                    "sort",
                    format!("排序只能是 newest 或 oldest (unknown sort {o})"),
                ));
                true
            }
        };
        let limit = match nonempty(&q.limit) {
            None => 50,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        "每页1–200条 (limit must be 1–200)",
                    ));
                    50
                }
            },
        };
        if let Some(c) = nonempty(&q.cursor) {
            match u64::from_str_radix(c, 16).ok().map(TicketNo) {
                Some(n) if desc => hi = hi.min(TicketNo(n.0.saturating_sub(1))),
                Some(n) => lo = lo.max(TicketNo(n.0 + 1)),
                None => errors.push(FieldError::new("cursor", "无效的分页标记 (invalid cursor)")),
            }
        }
        let states = nonempty(&q.state).map(|s| {
            let mut out = vec![];
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if part == "open" {
                    out.extend(State::ALL.iter().copied().filter(|s| !s.is_final()));
                } else if let Some(st) = parse_enum("state", part, State::parse, &mut errors) {
                    out.push(st);
                }
            }
            out.sort();
            out.dedup();
            out
        });
        let supervision = nonempty(&q.supervision)
            .and_then(|v| parse_enum("supervision", v, Supervision::parse, &mut errors));
        let appeal = nonempty(&q.appeal_type)
            .and_then(|v| parse_enum("appeal_type", v, AppealType::parse, &mut errors));
        let channel = nonempty(&q.channel)
            .and_then(|v| parse_enum("channel", v, Channel::parse, &mut errors));
        let urgency = nonempty(&q.urgency)
            .and_then(|v| parse_enum("urgency", v, Urgency::parse, &mut errors));
        let callback = nonempty(&q.callback).and_then(|v| match v {
            "pending" => Some(None),
            v => parse_enum("callback", v, Satisfaction::parse, &mut errors).map(Some),
        });
        let phone = match nonempty(&q.caller_phone) {
            None => None,
            Some(p) => match normalize_phone(p) {
                Ok(p) if !p.is_empty() => Some(p),
                Ok(_) => None,
                Err(m) => {
                    errors.push(FieldError::new("caller_phone", m));
                    None
                }
            },
        };
        let categories = nonempty(&q.category).map(|c| {
            let codes: Vec<String> = dir
                .categories
                .iter()
                .filter(|k| k.code.starts_with(c))
                .map(|k| k.code.clone())
                .collect();
            if codes.is_empty() {
                errors.push(FieldError::new(
                    "category",
                    format!("分类 {c} 不存在 (unknown category {c})"),
                ));
            }
            codes
        });
        let units = nonempty(&q.unit_id).and_then(|u| match u.parse::<u32>() {
            Ok(id) if dir.unit(id).is_some() => {
                let mut v: Vec<u32> = dir.tree.subtree(id).into_iter().collect();
                v.sort();
                Some(v)
            }
            _ => {
                errors.push(FieldError::new(
                    "unit_id",
                    format!("单位 {u} 不存在 (unknown unit {u})"),
                ));
                None
            }
        });
        // A part of a number ("000007", "1205-00") searches for the
        // numbers that contain it; anything but digits is refused.
        let digits = nonempty(&q.number)
            .filter(|n| TicketNo::parse(n).is_none())
            .and_then(|n| {
                let d = crate::domain::ticket::number_digits(n).filter(|d| (1..14).contains(&d.len()));
                if d.is_none() {
                    errors.push(FieldError::new(
                        "number",
                        "工单编号只含数字，可输入完整编号或其中一段 (digits of a number, whole or in part)",
                    ));
                }
                d
            });
        let words: Vec<String> = nonempty(&q.q)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        if words.iter().any(|w| w.chars().count() > 100) || words.len() > 10 {
            errors.push(FieldError::new(
                "q",
                "关键词过长 (too many or too long words)",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let text = |o: &Option<String>| nonempty(o).map(str::to_string);
        let now = self.now();
        let source = if let Some(p) = &phone {
            ScanSource::Phone(p.clone())
        } else if let Some(u) = &units {
            ScanSource::CurrentUnits {
                units: u.clone(),
                states: states.clone().unwrap_or_else(|| State::ALL.to_vec()),
            }
        } else if let Some(s) = supervision {
            let (dlo, dhi) = due_window(
                s,
                now,
                &dir.settings.tz(),
                dir.settings
                    .emergency_finish_hours
                    .max(dir.settings.emergency_response_hours),
            );
            let st = states
                .clone()
                .unwrap_or_else(|| State::ALL.to_vec())
                .into_iter()
                .filter(|s| s.has_stage_deadline())
                .collect();
            ScanSource::StateDue {
                states: st,
                lo: dlo,
                hi: dhi,
            }
        } else if let Some(c) = &categories {
            ScanSource::Categories(c.clone())
        } else if let Some(d) = text(&q.district) {
            ScanSource::District(d)
        } else if let Some(s) = &states {
            ScanSource::States(s.clone())
        } else if let Scope::Units(set) = &actor.scope {
            let mut v: Vec<u32> = set.iter().copied().collect();
            v.sort();
            ScanSource::SeenUnits(v)
        } else {
            ScanSource::All
        };
        Ok(Plan {
            lo,
            hi,
            from_s,
            to_s,
            desc,
            limit,
            source,
            states,
            supervision,
            phone,
            name: text(&q.caller_name),
            appeal,
            channel,
            urgency,
            categories,
            district: text(&q.district),
            street: text(&q.street),
            address: text(&q.address),
            words,
            units,
            callback,
            digits,
        })
    }

    fn matches(
        &self,
        p: &Plan,
        t: &Ticket,
        actor: &Actor,
        dir: &Directory,
        now: jiff::Timestamp,
    ) -> bool {
        if !actor.scope.sees(&t.units_seen) {
            return false;
        }
        if let Some(d) = &p.digits
            && !t.number.0.to_string().contains(d.as_str())
        {
            return false;
        }
        let hidden = actor.scope.is_department() && t.identity_hidden_from_departments();
        let pass = p.from_s.is_none_or(|f| t.created_at >= f)
            && p.to_s.is_none_or(|to| t.created_at <= to)
            && p.states.as_ref().is_none_or(|s| s.contains(&t.state))
            && p.phone
                .as_ref()
                .is_none_or(|ph| !hidden && &t.caller_phone == ph)
            && p.name
                .as_ref()
                .is_none_or(|n| !hidden && t.caller_name.contains(n.as_str()))
            && p.appeal.is_none_or(|a| t.appeal_type == a)
            && p.channel.is_none_or(|c| t.channel == c)
            && p.urgency.is_none_or(|u| t.urgency == u)
            && p.categories
                .as_ref()
                .is_none_or(|c| c.contains(&t.category_code))
            && p.district.as_ref().is_none_or(|d| &t.district == d)
            && p.street.as_ref().is_none_or(|s| &t.street == s)
            && p.address
                .as_ref()
                .is_none_or(|a| t.address.contains(a.as_str()))
            && p.units
                .as_ref()
                .is_none_or(|u| t.unit_id.is_some_and(|id| u.contains(&id)))
            && p.callback.is_none_or(|c| match c {
                None => t.state == State::AwaitingCallback,
                Some(s) => t.satisfaction == Some(s),
            })
            && t.mentions(&p.words);
        pass && p
            .supervision
            .is_none_or(|s| supervision_of(t, now, dir) == Some(s))
    }

    /// The ticket list: filters, scope, paging.
    pub fn query_tickets(&self, actor: &Actor, q: &TicketQuery) -> Result<TicketPage> {
        actor.require(Permission::ReadTickets)?;
        if (nonempty(&q.caller_phone).is_some() || nonempty(&q.caller_name).is_some())
            && !crate::domain::permissions::may_query_caller(&actor.scope)
        {
            return Err(Error::Forbidden(
                crate::domain::permissions::CALLER_QUERY_REFUSED.into(),
            ));
        }
        let dir = self.dir();
        let now = self.now();
        if let Some(no) = nonempty(&q.number).and_then(TicketNo::parse) {
            let mut items = vec![];
            if let Some(t) = self.store.ticket(no)?
                && actor.scope.sees(&t.units_seen)
            {
                items.push(TicketView::new(&t, actor, &dir, now));
            }
            return Ok(TicketPage {
                total: items.len() as u64,
                items,
                next_cursor: None,
                partial: false,
                total_capped: false,
            });
        }
        let mut plan = self.plan(actor, q, &dir)?;
        if !plan.words.is_empty() && plan.desc && self.search.tickets_ready() {
            // Words go to the full-text index (jieba words, synonyms);
            // every other filter and the scope are checked per ticket.
            let words = std::mem::take(&mut plan.words).join(" ");
            // Read your own writes: index what is pending first.
            if let Err(e) = self.search.sync(&self.store, false) {
                tracing::warn!(error = %e, "search sync failed");
            }
            return self.query_words(actor, &plan, &words, &dir, now);
        }
        let mut items = Vec::with_capacity(plan.limit);
        let mut more = false;
        let mut last = None;
        let mut scanned = 0u64;
        let mut partial = false;
        // After the page is full the scan goes on counting the matches,
        // within the same budget: the total, or "N+" when it stops.
        let (mut total, mut capped) = (0u64, false);
        self.store
            .scan(&plan.source, plan.lo, plan.hi, plan.desc, |t| {
                scanned += 1;
                if self.matches(&plan, &t, actor, &dir, now) {
                    total += 1;
                    if items.len() == plan.limit {
                        more = true;
                    } else {
                        last = Some(t.number);
                        items.push(TicketView::new(&t, actor, &dir, now));
                    }
                }
                if scanned >= SCAN_BUDGET {
                    capped = true;
                    if items.len() < plan.limit {
                        partial = true;
                        last = Some(t.number);
                        more = true;
                    }
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })?;
        Ok(TicketPage {
            items,
            next_cursor: if more {
                last.map(|n| format!("{:x}", n.0))
            } else {
                None
            },
            partial,
            total,
            total_capped: capped,
        })
    }

    /// The list for a query with words: candidates from the full-text index,
    /// newest first, in pages, each checked against the other filters and
    /// the actor's scope; at most `SCAN_BUDGET` candidates per request.
    fn query_words(
        &self,
        actor: &Actor,
        plan: &Plan,
        words: &str,
        dir: &Directory,
        now: jiff::Timestamp,
    ) -> Result<TicketPage> {
        let mut items = Vec::with_capacity(plan.limit);
        let mut before = plan.hi.0.checked_add(1);
        let mut scanned = 0u64;
        let mut last = None;
        let (mut more, mut partial) = (false, false);
        let (mut total, mut capped) = (0u64, false);
        'pages: loop {
            let nos = self
                .search
                .index
                .search_tickets(words, 500, before)
                .map_err(Error::internal)?;
            let Some(&oldest) = nos.last() else { break };
            before = Some(oldest);
            let nos: Vec<TicketNo> = nos
                .into_iter()
                .take_while(|n| *n >= plan.lo.0)
                .map(TicketNo)
                .collect();
            let reached_lo = nos.last().map(|n| n.0) != Some(oldest);
            for t in self.store.tickets(&nos)? {
                scanned += 1;
                if self.matches(plan, &t, actor, dir, now) {
                    total += 1;
                    if items.len() == plan.limit {
                        more = true;
                    } else {
                        last = Some(t.number);
                        items.push(TicketView::new(&t, actor, dir, now));
                    }
                }
                if scanned >= SCAN_BUDGET {
                    capped = true;
                    if items.len() < plan.limit {
                        partial = true;
                        more = true;
                        last = Some(t.number);
                    }
                    break 'pages;
                }
            }
            if reached_lo {
                break;
            }
        }
        Ok(TicketPage {
            items,
            next_cursor: if more {
                last.map(|n| format!("{:x}", n.0))
            } else {
                None
            },
            partial,
            total,
            total_capped: capped,
        })
    }

    /// Past tickets most like `text` (the content being typed at intake),
    /// best first, that the actor may see; empty while the ticket index is
    /// being rebuilt.
    pub fn similar_tickets(&self, actor: &Actor, text: &str, n: usize) -> Result<Vec<TicketView>> {
        actor.require(Permission::ReadTickets)?;
        if text.chars().count() > 2_000 {
            return Err(Error::field(
                "q",
                "内容太长，请不超过2000个字 (the text is too long: at most 2,000 characters)",
            ));
        }
        let n = n.clamp(1, 20);
        if text.trim().is_empty() || !self.search.tickets_ready() {
            return Ok(vec![]);
        }
        if let Err(e) = self.search.sync(&self.store, false) {
            tracing::warn!(error = %e, "search sync failed");
        }
        let hits = self
            .search
            .index
            .similar_tickets(text, n * 3)
            .map_err(Error::internal)?;
        let nos: Vec<TicketNo> = hits.into_iter().map(|(no, _)| TicketNo(no)).collect();
        let dir = self.dir();
        let now = self.now();
        Ok(self
            .store
            .tickets(&nos)?
            .into_iter()
            .filter(|t| actor.scope.sees(&t.units_seen))
            .take(n)
            .map(|t| TicketView::new(&t, actor, &dir, now))
            .collect())
    }

    /// One ticket, if the actor may see it; otherwise "not found", so that
    /// department users cannot probe other units' numbers.
    pub fn ticket(&self, actor: &Actor, number: &str) -> Result<Ticket> {
        actor.require(Permission::ReadTickets)?;
        let no = TicketNo::parse(number).ok_or_else(|| Error::ticket_not_found(number))?;
        match self.store.ticket(no)? {
            Some(t) if actor.scope.sees(&t.units_seen) => Ok(t),
            _ => Err(Error::ticket_not_found(number)),
        }
    }

    pub fn ticket_view(&self, actor: &Actor, number: &str) -> Result<TicketView> {
        let t = self.ticket(actor, number)?;
        Ok(TicketView::new(&t, actor, &self.dir(), self.now()))
    }

    pub fn ticket_events(&self, actor: &Actor, number: &str) -> Result<Vec<EventView>> {
        let t = self.ticket(actor, number)?;
        let dir = self.dir();
        Ok(self
            .store
            .events(t.number)?
            .iter()
            .enumerate()
            .map(|(i, e)| EventView::new(i as u32, e, &dir))
            .collect())
    }

    /// Registers a ticket (intake). All-or-nothing: every field is checked
    /// before anything is written.
    pub fn register(&self, actor: &Actor, n: NewTicket) -> Result<TicketView> {
        actor.require(Permission::RegisterTicket)?;
        let dir = self.dir();
        let mut errors = vec![];
        let channel = match n
            .channel
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(Channel::Phone),
            Some(c) => parse_enum("channel", c, Channel::parse, &mut errors),
        };
        let appeal = match n.appeal_type.trim() {
            "" => {
                errors.push(FieldError::new(
                    "appeal_type",
                    "请选择诉求类型 (choose an appeal type)",
                ));
                None
            }
            a => parse_enum("appeal_type", a, AppealType::parse, &mut errors),
        };
        let urgency = match n
            .urgency
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None if appeal == Some(AppealType::Emergency) => Some(Urgency::Emergency),
            None => Some(Urgency::Normal),
            Some(u) => parse_enum("urgency", u, Urgency::parse, &mut errors),
        };
        // A code, "code name" or a unique name ("停水").
        let code = crate::domain::org::resolve_category(&dir.categories, &n.category_code)
            .map_or_else(|| n.category_code.trim().to_string(), |c| c.code.clone());
        match dir.category(&code) {
            _ if code.is_empty() => errors.push(FieldError::new(
                "category_code",
                "请选择业务分类 (choose a category)",
            )),
            None => errors.push(FieldError::new(
                "category_code",
                format!("分类 {code} 不存在 (unknown category {code})"),
            )),
            Some(c) if !c.enabled => errors.push(FieldError::new(
                "category_code",
                format!("分类 {code} 已停用 (category {code} is disabled)"),
            )),
            Some(_) => {}
        }
        let phone = match normalize_phone(&n.caller_phone) {
            Ok(p) => p,
            Err(m) => {
                errors.push(FieldError::new("caller_phone", m));
                String::new()
            }
        };
        let name = clean_line("caller_name", &n.caller_name, limits::NAME, &mut errors);
        let district = clean_line("district", &n.district, limits::PLACE, &mut errors);
        let street = clean_line("street", &n.street, limits::PLACE, &mut errors);
        let community = clean_line("community", &n.community, limits::PLACE, &mut errors);
        let address = clean_line("address", &n.address, limits::ADDRESS, &mut errors);
        let content = clean_text("content", &n.content, limits::CONTENT, &mut errors);
        if content.is_empty() {
            errors.push(FieldError::new(
                "content",
                "请填写诉求内容 (content is required)",
            ));
        }
        let mut title = clean_line("title", &n.title, limits::TITLE, &mut errors);
        if title.is_empty() {
            title = derive_title(&content);
        }
        let answer = clean_text(
            "answer",
            n.answer.as_deref().unwrap_or(""),
            limits::ANSWER,
            &mut errors,
        );
        if !answer.is_empty() && appeal.is_some_and(|a| a != AppealType::Consultation) {
            errors.push(FieldError::new(
                "answer",
                "只有咨询类工单可以直接答复办结 (only consultations can be answered at intake)",
            ));
        }
        if n.attachments.len() > 20 {
            errors.push(FieldError::new(
                "attachments",
                "最多20个附件 (at most 20 attachments)",
            ));
        }
        let mut attachments = vec![];
        for (i, a) in n.attachments.iter().enumerate() {
            // Only a file this person uploaded (issue 12.5: a stored file
            // is not taken over by its hash from where others put it).
            if !self
                .uploads
                .uploaded_by(actor.user.id, &a.sha256.trim().to_ascii_lowercase())
            {
                errors.push(FieldError::new(
                    &format!("attachments[{i}]"),
                    "附件须由您本人上传后再引用 (attach only files you uploaded)",
                ));
                continue;
            }
            match self.attachment_meta(&a.sha256, &a.name) {
                Ok(m) => attachments.push(m),
                Err(msg) => errors.push(FieldError::new(&format!("attachments[{i}]"), msg)),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (Some(channel), Some(appeal_type), Some(urgency)) = (channel, appeal, urgency) else {
            return Err(Error::BadRequest("invalid input".into()));
        };
        let now = self.now();
        let secs = now.as_second();
        let closed = !answer.is_empty();
        let t = Ticket {
            number: TicketNo(0),
            created_at: secs,
            updated_at: secs,
            created_by: actor.user.id,
            channel,
            appeal_type,
            category_code: code,
            caller_phone: phone,
            caller_name: name,
            anonymous: n.anonymous,
            confidential: n.confidential,
            district,
            street,
            community,
            address,
            coordinates: None,
            title,
            content,
            urgency,
            answer: answer.clone(),
            attachments,
            state: if closed {
                State::Closed
            } else {
                State::PendingDispatch
            },
            unit_id: None,
            units_seen: vec![],
            stage: None,
            due_at: None,
            round: 1,
            closed_at: closed.then_some(secs),
            satisfaction: None,
            event_count: 0,
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
        let mut events = vec![Event {
            at: secs,
            actor: actor.user.id,
            kind: EventKind::Created,
            note: String::new(),
        }];
        let mut t = t;
        if closed {
            events.push(Event {
                at: secs,
                actor: actor.user.id,
                kind: EventKind::AnsweredAtIntake { answer },
                note: String::new(),
            });
            // A share of the answers given on the spot is checked by a callback.
            if rand::random::<u8>() % 100 < dir.settings.callback_sample_percent.min(100) {
                t.state = State::AwaitingCallback;
                t.closed_at = None;
                events.push(Event {
                    at: secs,
                    actor: 0,
                    kind: EventKind::SampledForCallback,
                    note: String::new(),
                });
            }
        }
        let day = local_day(secs, &dir);
        let t = self.store.register_ticket(day, t, &events)?;
        self.notify(&t, "created");
        Ok(TicketView::new(&t, actor, &dir, now))
    }

    /// A caller's earlier tickets (newest first), for the intake screen.
    pub fn caller_history(
        &self,
        actor: &Actor,
        phone: &str,
        limit: usize,
    ) -> Result<Vec<TicketView>> {
        let q = TicketQuery {
            caller_phone: Some(phone.to_string()),
            limit: Some(limit.to_string()),
            ..Default::default()
        };
        Ok(self.query_tickets(actor, &q)?.items)
    }
}
