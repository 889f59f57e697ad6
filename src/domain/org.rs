//! People, the org tree and the category taxonomy, with their rules.
//!
//! The center is the root and is not a unit; units without a parent are
//! level-2 units, their children level-3 units. Nothing is ever deleted:
//! units, categories and users are disabled.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::types::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: u32,
    pub username: String,
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub unit_id: Option<u32>,
    pub enabled: bool,
    pub created_at: i64,
    /// Bumped on password change: sessions older than this are invalid.
    pub password_changed_at: i64,
}

impl User {
    pub fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: u32,
    pub name: String,
    pub parent_id: Option<u32>,
    pub enabled: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub default_unit_id: Option<u32>,
    pub enabled: bool,
}

/// The org tree, read-only, for scope and level questions.
#[derive(Clone, Debug, Default)]
pub struct OrgTree {
    parent: HashMap<u32, Option<u32>>,
    children: HashMap<u32, Vec<u32>>,
}

impl OrgTree {
    pub fn new<'a>(units: impl IntoIterator<Item = &'a Unit>) -> Self {
        let mut t = OrgTree::default();
        for u in units {
            t.parent.insert(u.id, u.parent_id);
            if let Some(p) = u.parent_id {
                t.children.entry(p).or_default().push(u.id);
            }
        }
        t
    }

    pub fn contains(&self, id: u32) -> bool {
        self.parent.contains_key(&id)
    }

    /// 2 for a unit under the center, 3 below that, …; `None` if unknown.
    pub fn level(&self, id: u32) -> Option<u8> {
        let mut level = 2u8;
        let mut cur = *self.parent.get(&id)?;
        while let Some(p) = cur {
            level += 1;
            if level > 10 {
                return None;
            }
            cur = *self.parent.get(&p)?;
        }
        Some(level)
    }

    /// The unit and every unit below it.
    pub fn subtree(&self, id: u32) -> HashSet<u32> {
        let mut out = HashSet::new();
        let mut stack = vec![id];
        while let Some(u) = stack.pop() {
            if out.insert(u)
                && let Some(c) = self.children.get(&u)
            {
                stack.extend(c);
            }
        }
        out
    }

    /// The unit's parent; `None` under the center or if unknown.
    pub fn parent(&self, id: u32) -> Option<u32> {
        self.parent.get(&id).copied().flatten()
    }

    pub fn children(&self, id: u32) -> &[u32] {
        self.children.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Why a unit cannot be placed where asked.
pub fn check_unit_parent(tree: &OrgTree, parent: Option<u32>) -> Result<(), String> {
    match parent {
        None => Ok(()),
        Some(p) => match tree.level(p) {
            None => Err(format!(
                "上级单位 {p} 不存在 (parent unit {p} does not exist)"
            )),
            Some(2) => Ok(()),
            Some(_) => Err("只支持二级、三级单位 (units can only be two levels deep)".into()),
        },
    }
}

/// A category code is 2, 4, 6 … digits and extends its parent's code by two.
pub fn check_category_code(code: &str, parent_code: Option<&str>) -> Result<(), String> {
    if code.is_empty()
        || code.len() > 12
        || !code.len().is_multiple_of(2)
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("分类编码应为2、4、6…位数字 (a code is 2, 4, 6 … digits)".into());
    }
    match parent_code {
        None if code.len() == 2 => Ok(()),
        None => Err("顶级分类编码为2位 (a top-level code has 2 digits)".into()),
        Some(p) if code.len() == p.len() + 2 && code.starts_with(p) => Ok(()),
        Some(p) => Err(format!(
            "编码应以上级编码 {p} 开头并多2位 (the code must extend its parent {p} by two digits)"
        )),
    }
}

/// Usernames: 2–32 characters of letters, digits, `.`, `_`, `-`.
/// The one form of a typed user name that the login throttle and the
/// account lookup both use: surrounding whitespace of any kind removed
/// (tabs, newlines, the ideographic space U+3000, zero-width spaces and
/// the BOM too), full-width ASCII letters and digits folded to half
/// width (a Chinese input method left on), lower case. Names are stored
/// and matched case-insensitively, so `Water`, ` water`, `water\t` and
/// `ｗａｔｅｒ` are one account and one throttle bucket.
pub fn normalize_username(typed: &str) -> String {
    let junk = |c: char| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    };
    typed
        .trim_matches(junk)
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err("用户名为2–32位字母、数字、点、下划线或连字符 (2–32 letters, digits, . _ -)".into())
    }
}

/// Passwords: at least 8 characters, at most 128.
pub fn check_password(pw: &str) -> Result<(), String> {
    let n = pw.chars().count();
    if n < 8 {
        Err("密码至少8位 (at least 8 characters)".into())
    } else if n > 128 {
        Err("密码最多128位 (at most 128 characters)".into())
    } else {
        Ok(())
    }
}

/// A department handler must belong to a unit; center roles may not.
pub fn check_roles(roles: &[Role], unit_id: Option<u32>) -> Result<(), String> {
    if roles.is_empty() {
        return Err("至少选择一个角色 (choose at least one role)".into());
    }
    if roles.contains(&Role::DepartmentHandler) && unit_id.is_none() {
        return Err("承办人必须属于一个单位 (a department handler needs a unit)".into());
    }
    Ok(())
}

/// The category a person typed: its code, `code name` as the type-ahead
/// offers it, or a name that only one enabled category has ("停水"). A
/// name several categories share stays unresolved (`None`), so the
/// caller's error asks for the code.
pub fn resolve_category<'a>(cats: &'a [Category], typed: &str) -> Option<&'a Category> {
    let typed = typed.trim();
    let first = typed.split_whitespace().next().unwrap_or("");
    if let Some(c) = cats.iter().find(|c| c.code == first) {
        return Some(c);
    }
    let mut named = cats.iter().filter(|c| c.enabled && c.name == typed);
    match (named.next(), named.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Whether the users, with `changed` replacing the stored user of the same
/// id, still have an enabled administrator: the last one can be neither
/// disabled nor lose the role, or nobody could administer the center.
pub fn check_keeps_an_admin(users: &[User], changed: &User) -> Result<(), String> {
    let is_admin = |u: &User| u.enabled && u.has(Role::Admin);
    let remains = users
        .iter()
        .map(|u| if u.id == changed.id { changed } else { u })
        .any(is_admin);
    let had = users.iter().any(is_admin);
    if had && !remains {
        return Err(
            "不能去掉最后一位管理员的角色或停用他 (the last administrator must stay an enabled administrator)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_have_one_normal_form() {
        for typed in [
            "xssu40",
            "xssu40 ",
            " xssu40",
            "xssu40\t",
            "\txssu40\n",
            "XSSU40",
            "xssu40\u{3000}",
            "\u{200B}xssu40\u{FEFF}",
            "ｘｓｓｕ４０",
        ] {
            assert_eq!(normalize_username(typed), "xssu40", "{typed:?}");
        }
        assert_eq!(normalize_username("x  "), normalize_username("x"));
        assert_eq!(normalize_username("a.b-c_d"), "a.b-c_d");
    }

    fn person(id: u32, roles: &[Role], enabled: bool) -> User {
        User {
            id,
            username: format!("u{id}"),
            display_name: String::new(),
            password_hash: String::new(),
            roles: roles.to_vec(),
            unit_id: None,
            enabled,
            created_at: 0,
            password_changed_at: 0,
        }
    }

    #[test]
    fn categories_by_code_or_unique_name() {
        let cat = |code: &str, name: &str, enabled: bool| Category {
            code: code.into(),
            name: name.into(),
            parent_code: None,
            default_unit_id: None,
            enabled,
        };
        let cats = [
            cat("0101", "供水", true),
            cat("010101", "停水", true),
            cat("0201", "其他", true),
            cat("0301", "其他", true),
            cat("0401", "旧分类", false),
        ];
        let code = |t: &str| resolve_category(&cats, t).map(|c| c.code.as_str());
        assert_eq!(code("010101"), Some("010101"));
        assert_eq!(code("010101 停水"), Some("010101"));
        assert_eq!(code(" 停水 "), Some("010101"), "a unique leaf name");
        assert_eq!(code("供水"), Some("0101"));
        assert_eq!(code("其他"), None, "two categories share the name");
        assert_eq!(code("旧分类"), None, "disabled");
        assert_eq!(code("停"), None);
        assert_eq!(code(""), None);
    }

    #[test]
    fn the_last_administrator_stays() {
        let users = [
            person(1, &[Role::Admin], true),
            person(2, &[Role::Operator], true),
            person(3, &[Role::Admin], false),
        ];
        // Dropping the role or disabling the only enabled admin: refused.
        assert!(check_keeps_an_admin(&users, &person(1, &[Role::Operator], true)).is_err());
        assert!(check_keeps_an_admin(&users, &person(1, &[Role::Admin], false)).is_err());
        // Other changes are fine.
        assert!(check_keeps_an_admin(&users, &person(2, &[Role::Admin], true)).is_ok());
        assert!(
            check_keeps_an_admin(&users, &person(1, &[Role::Admin, Role::Leader], true)).is_ok()
        );
        // With a second enabled admin, the first may go.
        let two = [
            person(1, &[Role::Admin], true),
            person(4, &[Role::Admin], true),
        ];
        assert!(check_keeps_an_admin(&two, &person(1, &[Role::Operator], true)).is_ok());
    }

    fn unit(id: u32, parent: Option<u32>) -> Unit {
        Unit {
            id,
            name: format!("u{id}"),
            parent_id: parent,
            enabled: true,
            created_at: 0,
        }
    }

    #[test]
    fn tree_levels_and_subtrees() {
        let units = [
            unit(1, None),
            unit(2, Some(1)),
            unit(3, Some(1)),
            unit(4, None),
        ];
        let t = OrgTree::new(&units);
        assert_eq!(t.level(1), Some(2));
        assert_eq!(t.level(3), Some(3));
        assert_eq!(t.level(9), None);
        assert_eq!(t.subtree(1), HashSet::from([1, 2, 3]));
        assert_eq!(t.subtree(4), HashSet::from([4]));
        assert_eq!(t.children(1), &[2, 3]);
        assert!(check_unit_parent(&t, None).is_ok());
        assert!(check_unit_parent(&t, Some(1)).is_ok());
        assert!(check_unit_parent(&t, Some(2)).is_err());
        assert!(check_unit_parent(&t, Some(99)).is_err());
    }

    #[test]
    fn a_cycle_does_not_hang() {
        let units = [unit(1, Some(2)), unit(2, Some(1))];
        let t = OrgTree::new(&units);
        assert_eq!(t.level(1), None);
        assert_eq!(t.subtree(1).len(), 2);
    }

    #[test]
    fn category_codes() {
        assert!(check_category_code("01", None).is_ok());
        assert!(check_category_code("0101", Some("01")).is_ok());
        assert!(check_category_code("0201", Some("01")).is_err());
        assert!(check_category_code("0101", None).is_err());
        assert!(check_category_code("1", None).is_err());
        assert!(check_category_code("ab", None).is_err());
        assert!(check_category_code("01010", Some("0101")).is_err());
    }

    #[test]
    fn names_passwords_roles() {
        assert!(check_username("zhang.san").is_ok());
        assert!(check_username("a").is_err());
        assert!(check_username("张三").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password("1234567").is_err());
        assert!(check_roles(&[], None).is_err());
        assert!(check_roles(&[Role::DepartmentHandler], None).is_err());
        assert!(check_roles(&[Role::DepartmentHandler], Some(1)).is_ok());
        assert!(check_roles(&[Role::Operator], None).is_ok());
    }
}
