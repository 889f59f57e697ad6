//! Administration: users, the org tree (with CSV import) and categories.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{Actor, Services};
use crate::domain::org::{
    Category, Unit, User, check_category_code, check_keeps_an_admin, check_roles, check_unit_parent,
};
use crate::domain::permissions::Permission;
use crate::domain::ticket::{FieldError, clean_line, limits};
use crate::domain::types::Role;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub display_name: String,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub unit_id: Option<u32>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    /// `null` keeps the unit; use `clear_unit` to remove it.
    pub unit_id: Option<u32>,
    #[serde(default)]
    pub clear_unit: bool,
    pub enabled: Option<bool>,
    /// A new password set by the administrator (the user's sessions end).
    pub password: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewUnit {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct UnitPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewCategory {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent_code: Option<String>,
    #[serde(default)]
    pub default_unit_id: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub default_unit_id: Option<u32>,
    #[serde(default)]
    pub clear_default_unit: bool,
    pub enabled: Option<bool>,
}

fn required_name(field: &str, v: &str, errors: &mut Vec<FieldError>) -> String {
    let s = clean_line(field, v, limits::PLACE * 2, errors);
    if s.is_empty() {
        errors.push(FieldError::new(field, "必填 (required)"));
    }
    s
}

impl Services {
    fn check_unit_ref(&self, field: &str, unit: Option<u32>) -> Result<()> {
        if let Some(u) = unit
            && self.dir().unit(u).is_none()
        {
            {
                return Err(Error::field(
                    field,
                    format!("单位 {u} 不存在 (unit {u} not found)"),
                ));
            }
        }
        Ok(())
    }

    pub fn users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require(Permission::Administer)?;
        Ok(self.store.users()?)
    }

    pub fn create_user(&self, actor: &Actor, n: NewUser) -> Result<User> {
        actor.require(Permission::Administer)?;
        check_roles(&n.roles, n.unit_id).map_err(|m| Error::field("roles", m))?;
        self.check_unit_ref("unit_id", n.unit_id)?;
        let rec = self.new_user_record(
            &n.username,
            &n.password,
            &n.display_name,
            n.roles,
            n.unit_id,
        )?;
        let u = self.store.create_user(rec)?;
        self.reload()?;
        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
        self.audit(
            actor.user.id,
            "user.create",
            &u.username,
            &format!("roles={} unit={:?}", roles.join(","), u.unit_id),
        );
        Ok(u)
    }

    pub fn update_user(&self, actor: &Actor, id: u32, p: UserPatch) -> Result<User> {
        actor.require(Permission::Administer)?;
        let mut u = self
            .store
            .user(id)?
            .ok_or_else(|| Error::NotFound(format!("用户 {id} 不存在 (user {id} not found)")))?;
        let mut errors = vec![];
        if let Some(d) = &p.display_name {
            u.display_name = required_name("display_name", d, &mut errors);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Some(r) = p.roles {
            u.roles = r;
        }
        if p.clear_unit {
            u.unit_id = None;
        } else if p.unit_id.is_some() {
            self.check_unit_ref("unit_id", p.unit_id)?;
            u.unit_id = p.unit_id;
        }
        check_roles(&u.roles, u.unit_id).map_err(|m| Error::field("roles", m))?;
        if let Some(e) = p.enabled {
            u.enabled = e;
        }
        check_keeps_an_admin(&self.store.users()?, &u).map_err(Error::Conflict)?;
        if id == actor.user.id && (p.enabled == Some(false) || !u.roles.contains(&Role::Admin)) {
            return Err(Error::Conflict(
                "不能停用自己或去掉自己的管理员角色 (you cannot disable yourself or drop your own admin role)".into(),
            ));
        }
        // Check everything before writing anything.
        if let Some(pw) = &p.password {
            crate::domain::org::check_password(pw).map_err(|m| Error::field("password", m))?;
        }
        self.store.update_user(&u)?;
        if let Some(pw) = &p.password {
            self.set_password(u.clone(), pw)?;
        } else if !u.enabled {
            self.store.delete_sessions_of(u.id)?;
        }
        self.reload()?;
        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
        self.audit(
            actor.user.id,
            "user.update",
            &u.username,
            &format!(
                "roles={} unit={:?} enabled={}{}",
                roles.join(","),
                u.unit_id,
                u.enabled,
                if p.password.is_some() {
                    " password reset"
                } else {
                    ""
                }
            ),
        );
        Ok(self.store.user(id)?.unwrap_or(u))
    }

    pub fn units(&self) -> Vec<Unit> {
        self.dir().units.clone()
    }

    pub fn create_unit(&self, actor: &Actor, n: NewUnit) -> Result<Unit> {
        actor.require(Permission::Administer)?;
        let mut errors = vec![];
        let name = required_name("name", &n.name, &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        check_unit_parent(&self.dir().tree, n.parent_id)
            .map_err(|m| Error::field("parent_id", m))?;
        let u = self.store.create_unit(Unit {
            id: 0,
            name,
            parent_id: n.parent_id,
            enabled: true,
            created_at: self.now().as_second(),
        })?;
        self.reload()?;
        self.audit(
            actor.user.id,
            "unit.create",
            &u.name,
            &format!("id={} parent={:?}", u.id, u.parent_id),
        );
        Ok(u)
    }

    pub fn update_unit(&self, actor: &Actor, id: u32, p: UnitPatch) -> Result<Unit> {
        actor.require(Permission::Administer)?;
        let mut u =
            self.dir().unit(id).cloned().ok_or_else(|| {
                Error::NotFound(format!("单位 {id} 不存在 (unit {id} not found)"))
            })?;
        let mut errors = vec![];
        if let Some(n) = &p.name {
            u.name = required_name("name", n, &mut errors);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Some(e) = p.enabled {
            u.enabled = e;
        }
        self.store.update_unit(&u)?;
        self.reload()?;
        self.audit(
            actor.user.id,
            "unit.update",
            &u.name,
            &format!("id={} enabled={}", u.id, u.enabled),
        );
        Ok(u)
    }

    /// Imports units from CSV lines `name,parent name` (parent empty for a
    /// level-2 unit). All or nothing: the first bad line stops the import
    /// before anything is written. Existing names are skipped.
    pub fn import_units_csv(&self, actor: &Actor, csv: &str) -> Result<(usize, usize)> {
        actor.require(Permission::Administer)?;
        let dir = self.dir();
        let mut planned: Vec<(String, Option<String>)> = vec![];
        let mut errors = vec![];
        for (i, line) in csv.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || (i == 0 && (line.starts_with("name") || line.starts_with("单位")))
            {
                continue;
            }
            let mut parts = line.splitn(2, ',');
            let field = format!("line {}", i + 1);
            let name = required_name(&field, parts.next().unwrap_or(""), &mut errors);
            let parent = parts
                .next()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string);
            if let Some(p) = &parent {
                let known = dir
                    .units
                    .iter()
                    .any(|u| &u.name == p && u.parent_id.is_none())
                    || planned.iter().any(|(n, pp)| n == p && pp.is_none());
                if !known {
                    errors.push(FieldError::new(
                        &field,
                        format!("上级单位“{p}”不存在或不是二级单位 (parent {p} is not a known level-2 unit)"),
                    ));
                }
            }
            planned.push((name, parent));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (mut created, mut skipped) = (0, 0);
        for (name, parent) in planned {
            if self.dir().units.iter().any(|u| u.name == name) {
                skipped += 1;
                continue;
            }
            let parent_id =
                parent.and_then(|p| self.dir().units.iter().find(|u| u.name == p).map(|u| u.id));
            self.create_unit(actor, NewUnit { name, parent_id })?;
            created += 1;
        }
        Ok((created, skipped))
    }

    pub fn categories(&self) -> Vec<Category> {
        self.dir().categories.clone()
    }

    pub fn create_category(&self, actor: &Actor, n: NewCategory) -> Result<Category> {
        actor.require(Permission::Administer)?;
        let mut errors = vec![];
        let name = required_name("name", &n.name, &mut errors);
        let code = n.code.trim().to_string();
        let parent = n
            .parent_code
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        if let Err(m) = check_category_code(&code, parent.as_deref()) {
            errors.push(FieldError::new("code", m));
        }
        if let Some(p) = &parent
            && self.dir().category(p).is_none()
        {
            {
                errors.push(FieldError::new(
                    "parent_code",
                    format!("上级分类 {p} 不存在 (parent {p} not found)"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        self.check_unit_ref("default_unit_id", n.default_unit_id)?;
        let c = Category {
            code,
            name,
            parent_code: parent,
            default_unit_id: n.default_unit_id,
            enabled: true,
        };
        self.store.create_category(&c)?;
        self.reload()?;
        self.audit(
            actor.user.id,
            "category.create",
            &c.code,
            &format!("{} unit={:?}", c.name, c.default_unit_id),
        );
        Ok(c)
    }

    pub fn update_category(&self, actor: &Actor, code: &str, p: CategoryPatch) -> Result<Category> {
        actor.require(Permission::Administer)?;
        let mut c = self.dir().category(code).cloned().ok_or_else(|| {
            Error::NotFound(format!("分类 {code} 不存在 (category {code} not found)"))
        })?;
        let mut errors = vec![];
        if let Some(n) = &p.name {
            c.name = required_name("name", n, &mut errors);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if p.clear_default_unit {
            c.default_unit_id = None;
        } else if p.default_unit_id.is_some() {
            self.check_unit_ref("default_unit_id", p.default_unit_id)?;
            c.default_unit_id = p.default_unit_id;
        }
        if let Some(e) = p.enabled {
            c.enabled = e;
        }
        self.store.update_category(&c)?;
        self.reload()?;
        self.audit(
            actor.user.id,
            "category.update",
            &c.code,
            &format!(
                "{} unit={:?} enabled={}",
                c.name, c.default_unit_id, c.enabled
            ),
        );
        Ok(c)
    }
}
