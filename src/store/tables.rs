//! Every redb table of the data file, in one place.
//!
//! Values are `&[u8]` holding a postcard record (see `codec.rs`); keys are
//! redb's built-in integer, string and tuple types, so no custom redb type
//! name is ever persisted. Ticket numbers are the `u64` form of
//! [`crate::domain::ticket::TicketNo`] (`YYYYMMDDNNNNNN`).
//!
//! Index tables map a key ending in the ticket number to `()`, so a range
//! scan yields tickets in number (= creation) order within one prefix.

use redb::TableDefinition;

/// `"schema_version"` → u32 (LE bytes); other single values of the store.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Named settings (JSON): appeal-type periods, center name, time zone …
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// `YYYYMMDD` → calendar override record (holiday / make-up working day).
pub const CALENDAR: TableDefinition<u32, &[u8]> = TableDefinition::new("calendar");

/// user id → user record.
pub const USERS: TableDefinition<u32, &[u8]> = TableDefinition::new("users");
/// lower-case username → user id (unique).
pub const USERNAMES: TableDefinition<&str, u32> = TableDefinition::new("usernames");
/// unit id → unit record (org tree).
pub const UNITS: TableDefinition<u32, &[u8]> = TableDefinition::new("units");
/// category code → category record (coded taxonomy).
pub const CATEGORIES: TableDefinition<&str, &[u8]> = TableDefinition::new("categories");
/// SHA-256 (hex) of a session token → session record.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// SHA-256 (hex) of an API token → API token record.
pub const API_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("api_tokens");

/// ticket number → ticket record.
pub const TICKETS: TableDefinition<u64, &[u8]> = TableDefinition::new("tickets");
/// (ticket number, event sequence) → timeline event record. Append-only.
pub const EVENTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("events");

/// (caller phone, ticket) → (): a caller's history.
pub const IDX_PHONE: TableDefinition<(&str, u64), ()> = TableDefinition::new("idx_phone");
/// (category code, ticket) → ().
pub const IDX_CATEGORY: TableDefinition<(&str, u64), ()> = TableDefinition::new("idx_category");
/// (district, ticket) → ().
pub const IDX_DISTRICT: TableDefinition<(&str, u64), ()> = TableDefinition::new("idx_district");
/// (state code, ticket) → ().
pub const IDX_STATE: TableDefinition<(u8, u64), ()> = TableDefinition::new("idx_state");
/// (current unit id or 0, state code, ticket) → (): a unit's tickets by state.
pub const IDX_UNIT_STATE: TableDefinition<(u32, u8, u64), ()> =
    TableDefinition::new("idx_unit_state");
/// (unit id, ticket) → (): every unit a ticket was ever assigned to
/// (department users' scope). Never removed.
pub const IDX_UNIT_SEEN: TableDefinition<(u32, u64), ()> = TableDefinition::new("idx_unit_seen");
/// (state code, stage due instant, ticket) → (): open stages by deadline
/// (supervision filters, the card sweep).
pub const IDX_STATE_DUE: TableDefinition<(u8, i64, u64), ()> =
    TableDefinition::new("idx_state_due");

/// audit id (increasing) → audit record: every administrative and security
/// event (logins, users, units, categories, tokens, settings, calendar,
/// backups). Append-only. (schema v3)
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// audit id → link of the audit hash chain (32 bytes, `domain::chain`):
/// SHA-256 of the previous record's link, the id and the stored record
/// bytes. Written with every audit record. (schema v7)
pub const AUDIT_CHAIN: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_chain");
/// (ticket, sequence) → link of the ticket's timeline hash chain (32 bytes,
/// `domain::chain`), written with every event. (schema v7)
pub const EVENT_CHAIN: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("event_chain");

// ---- knowledge base (schema v4) ----

/// article id → article record (`domain::kb::Article`: current content).
/// One row per article that has been published at least once.
pub const KB_ARTICLES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_articles");
/// external code (the fixture's `kb-0001`) → article id (unique).
pub const KB_CODES: TableDefinition<&str, u64> = TableDefinition::new("kb_codes");
/// (category path, article id) → (): the category tree and browsing order.
pub const KB_IDX_CATEGORY: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("kb_idx_category");
/// (article id, version) → version record. Immutable, append-only.
pub const KB_VERSIONS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("kb_versions");
/// (published at, article id, version) → (): versions by time (monthly
/// summary).
pub const KB_VERSIONS_BY_TIME: TableDefinition<(i64, u64, u32), ()> =
    TableDefinition::new("kb_versions_by_time");
/// proposal id → proposal record.
pub const KB_PROPOSALS: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_proposals");
/// (proposal state code, proposal id) → (): the review queue.
pub const KB_IDX_PROPOSAL_STATE: TableDefinition<(u8, u64), ()> =
    TableDefinition::new("kb_idx_proposal_state");
/// notice id (increasing) → notice record: one per publish.
pub const KB_NOTICES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_notices");
/// (user id, notice id) → (): a user's unread notices; removed when read.
pub const KB_UNREAD: TableDefinition<(u32, u64), ()> = TableDefinition::new("kb_unread");
/// (article id, version, user id) → acknowledged at (unix seconds):
/// must-read acknowledgements, per version.
pub const KB_ACKS: TableDefinition<(u64, u32, u32), i64> = TableDefinition::new("kb_acks");
/// article id → stats record (views, uses).
pub const KB_STATS: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_stats");
/// use id (increasing) → use record (article, ticket, user, time, search).
pub const KB_USES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_uses");
/// search id (increasing) → search log record (query, normalised query,
/// result count, opened / used article).
pub const KB_SEARCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb_searches");
/// group id → synonym group record (administrator-managed).
pub const KB_SYNONYMS: TableDefinition<u32, &[u8]> = TableDefinition::new("kb_synonyms");
/// sequence (increasing) → outbox record `{kind, id}`: a pending search
/// index update, written in the same transaction as the change it reports;
/// the search integration drains it (index healing after a crash).
pub const SEARCH_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("search_outbox");

// ---- report aggregates (schema v5) ----

/// (cuboid kind, local day `YYYYMMDD`, a, b) → sparse counters
/// (`Vec<(counter index, value)>`): the per-day report aggregates of
/// `domain::aggregate`, written in the same transaction as every ticket
/// change; `a`/`b` are the cuboid's dimension values (0 when summed over).
/// Rebuildable from the tickets (`hotline rebuild-aggregates`). (schema v5)
pub const AGGREGATES: TableDefinition<(u8, u32, u32, u32), &[u8]> =
    TableDefinition::new("aggregates");
/// Scratch table of a rebuild or check; renamed to `aggregates` or dropped
/// within the same transaction, so never present in a committed file.
pub const AGGREGATES_REBUILD: TableDefinition<(u8, u32, u32, u32), &[u8]> =
    TableDefinition::new("aggregates_rebuild");
/// (dimension code, name) → id: interned category codes and places
/// (district + street) of the aggregate keys. Ids are never reused. (schema v5)
pub const AGG_NAMES: TableDefinition<(u8, &str), u32> = TableDefinition::new("agg_names");
/// (dimension code, id) → name: the reverse of `agg_names`. (schema v5)
pub const AGG_NAME_IDS: TableDefinition<(u8, u32), &str> = TableDefinition::new("agg_name_ids");

// ---- bulletins (schema v6) ----

/// (level, period, word id) → tickets whose title or content has the word:
/// the hot-word counts. Level 0: period = local day `YYYYMMDD`; level 1:
/// period = month `YYYYMM00` (the sum of its days, so that a year is read
/// as 12 rows per word). Each ticket counts once per word, on its creation
/// day; written in the same transaction as the ticket change and
/// rebuildable with the aggregates. (schema v6)
pub const WORD_COUNTS: TableDefinition<(u8, u32, u32), u32> = TableDefinition::new("word_counts");
/// Scratch table of a rebuild or check (never present in a committed file).
pub const WORD_COUNTS_REBUILD: TableDefinition<(u8, u32, u32), u32> =
    TableDefinition::new("word_counts_rebuild");
/// word → id: interned hot words. Ids are never reused. (schema v6)
pub const WORDS: TableDefinition<&str, u32> = TableDefinition::new("words");
/// id → word: the reverse of `words`. (schema v6)
pub const WORD_IDS: TableDefinition<u32, &str> = TableDefinition::new("word_ids");
/// (local day `YYYYMMDD`, ticket) → `Vec<(difficult kind code, unit id)>`
/// (postcard record): the difficult-case index (reopened, dissatisfied
/// callback, red card on that day), kept with the aggregates. (schema v6)
pub const DIFFICULT: TableDefinition<(u32, u64), &[u8]> = TableDefinition::new("difficult");
/// Scratch table of a rebuild or check (never present in a committed file).
pub const DIFFICULT_REBUILD: TableDefinition<(u32, u64), &[u8]> =
    TableDefinition::new("difficult_rebuild");
/// (bulletin kind code, period start `YYYYMMDD`) → issue record
/// (`domain::bulletin::IssueRecord`): who issued it and when. (schema v6)
pub const BULLETIN_INDEX: TableDefinition<(u8, u32), &[u8]> =
    TableDefinition::new("bulletin_index");
/// (bulletin kind code, period start `YYYYMMDD`) → the frozen bulletin as
/// versioned JSON (`service::bulletins::Bulletin`); replaced only by a
/// re-issue. (schema v6)
pub const BULLETINS: TableDefinition<(u8, u32), &[u8]> = TableDefinition::new("bulletins");
