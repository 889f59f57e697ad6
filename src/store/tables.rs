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
