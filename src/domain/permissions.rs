//! Who may do what (PRODUCT.md §1), as pure functions of roles.
//!
//! Center staff (any role but `department_handler`) see every ticket; a
//! person who holds only `department_handler` is a department user, bound to
//! one unit, and sees only tickets that are or were assigned to that unit or
//! to units below it. Department users see phone numbers masked and never
//! see the identity of a whistle-blower (举报) or of a caller who asked for
//! confidentiality.

use std::collections::HashSet;

use super::types::Role;

/// Something a person may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Users, org tree, categories, calendar, settings, API tokens.
    Administer,
    /// Register tickets (intake).
    RegisterTicket,
    /// Read the ticket list and tickets (within the person's scope).
    ReadTickets,
    /// Dispatch, void and merge tickets.
    Dispatch,
    /// Sign for, return, hand down, progress, extension request, reply.
    HandleAsDepartment,
    /// Review departments' replies.
    Review,
    /// Record callbacks.
    Callback,
    /// Decide extensions and dissatisfied cases.
    Decide,
    /// Read reports and dashboards.
    ReadReports,
    /// Issue (and re-issue) bulletins by hand: team leads and
    /// administrators; leaders only read.
    IssueBulletins,
}

/// Roles that work at the center and therefore see every ticket.
pub fn is_center_role(r: Role) -> bool {
    !matches!(r, Role::DepartmentHandler)
}

pub fn allowed(roles: &[Role], p: Permission) -> bool {
    let has = |r: Role| roles.contains(&r);
    match p {
        Permission::Administer => has(Role::Admin),
        Permission::RegisterTicket => {
            has(Role::Operator) || has(Role::Dispatcher) || has(Role::TeamLead)
        }
        Permission::ReadTickets => !roles.is_empty(),
        Permission::Dispatch => has(Role::Dispatcher) || has(Role::TeamLead),
        Permission::HandleAsDepartment => has(Role::DepartmentHandler),
        Permission::Review => has(Role::Reviewer) || has(Role::TeamLead),
        Permission::Callback => has(Role::CallbackAgent) || has(Role::TeamLead),
        Permission::Decide => has(Role::TeamLead),
        Permission::ReadReports => {
            has(Role::Leader) || has(Role::TeamLead) || has(Role::Admin) || has(Role::QaInspector)
        }
        Permission::IssueBulletins => has(Role::TeamLead) || has(Role::Admin),
    }
}

/// Which tickets a person may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Center staff: every ticket, identities visible.
    All,
    /// A department user: tickets ever assigned to one of these units
    /// (their own unit and every unit below it).
    Units(HashSet<u32>),
}

impl Scope {
    /// The scope of a person with these roles, bound to `unit` whose subtree
    /// is `subtree` (the unit itself included).
    pub fn for_user(roles: &[Role], subtree: impl FnOnce() -> HashSet<u32>) -> Scope {
        if roles.iter().copied().any(is_center_role) {
            Scope::All
        } else {
            Scope::Units(subtree())
        }
    }

    pub fn is_department(&self) -> bool {
        matches!(self, Scope::Units(_))
    }

    /// Whether a ticket that has been assigned to `units_seen` is visible.
    pub fn sees(&self, units_seen: &[u32]) -> bool {
        match self {
            Scope::All => true,
            Scope::Units(set) => units_seen.iter().any(|u| set.contains(u)),
        }
    }
}

/// Whether a person may filter or search tickets by the caller's phone
/// number or name. Only those who see both unmasked (center staff) may:
/// a department user sees `133****9137`, and a filter that answers "yes"
/// or "no" to a guessed number would give the masked digits back
/// (issue 12.2). The ticket query refuses such a filter with 403
/// ([`CALLER_QUERY_REFUSED`]) instead of silently ignoring it, so that
/// nobody mistakes an unfiltered list for an answer; the list page does
/// not offer the two fields to department users. Full-text search never
/// matches caller fields (see `search::tickets` and `Ticket::mentions`).
pub fn may_query_caller(scope: &Scope) -> bool {
    !scope.is_department()
}

/// The answer when [`may_query_caller`] says no.
pub const CALLER_QUERY_REFUSED: &str = "部门用户不能按来电人电话或姓名查询工单：号码对部门是遮蔽的 (department users cannot search tickets by the caller's phone number or name: the number is masked for departments)";

/// `13812341234` → `138****1234`; other numbers keep their first three and
/// last four characters, shorter ones are starred whole.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() >= 8 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "*".repeat(chars.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_matrix() {
        use Permission::*;
        use Role::*;
        let table: &[(Role, &[Permission])] = &[
            (Operator, &[RegisterTicket, ReadTickets]),
            (Dispatcher, &[RegisterTicket, ReadTickets, Dispatch]),
            (Reviewer, &[ReadTickets, Review]),
            (CallbackAgent, &[ReadTickets, Callback]),
            (DepartmentHandler, &[ReadTickets, HandleAsDepartment]),
            (QaInspector, &[ReadTickets, ReadReports]),
            (
                TeamLead,
                &[
                    RegisterTicket,
                    ReadTickets,
                    Dispatch,
                    Review,
                    Callback,
                    Decide,
                    ReadReports,
                    IssueBulletins,
                ],
            ),
            (Leader, &[ReadTickets, ReadReports]),
            (
                Admin,
                &[Administer, ReadTickets, ReadReports, IssueBulletins],
            ),
        ];
        let all = [
            Administer,
            RegisterTicket,
            ReadTickets,
            Dispatch,
            HandleAsDepartment,
            Review,
            Callback,
            Decide,
            ReadReports,
            IssueBulletins,
        ];
        for (role, granted) in table {
            for p in all {
                assert_eq!(
                    allowed(&[*role], p),
                    granted.contains(&p),
                    "{role:?} / {p:?}"
                );
            }
        }
        assert_eq!(table.len(), Role::ALL.len());
        assert!(!allowed(&[], ReadTickets));
        assert!(allowed(&[Operator, Admin], Administer));
    }

    #[test]
    fn scopes() {
        let sub = || HashSet::from([5, 6, 7]);
        assert_eq!(Scope::for_user(&[Role::Operator], sub), Scope::All);
        assert_eq!(
            Scope::for_user(&[Role::DepartmentHandler, Role::Leader], sub),
            Scope::All
        );
        let s = Scope::for_user(&[Role::DepartmentHandler], sub);
        assert!(s.is_department());
        assert!(s.sees(&[1, 6]));
        assert!(!s.sees(&[1, 2]));
        assert!(!s.sees(&[]));
        assert!(Scope::All.sees(&[]));
    }

    #[test]
    fn masking() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("053288776655"), "053****6655");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone(""), "");
    }
}
