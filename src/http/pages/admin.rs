//! Administration pages: users, units (with CSV import), categories, API
//! tokens. Every form posts back and redirects, or shows the error.

use crate::http::extract::PagePath;
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::org::{Category, Unit, User};
use crate::domain::permissions::Permission;
use crate::domain::types::Role;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::admin::{CategoryPatch, NewCategory, NewUnit, NewUser, UnitPatch, UserPatch};
use crate::store::sessions::ApiToken;

/// Parses an `application/x-www-form-urlencoded` body, keeping repeated keys.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    match u8::from_str_radix(
                        std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"),
                        16,
                    ) {
                        Ok(v) => {
                            out.push(v);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

struct FormData(Vec<(String, String)>);

impl FormData {
    fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn opt_u32(&self, k: &str) -> Option<u32> {
        self.get(k).parse().ok()
    }
}

fn admin_guard(auth: &PageAuth) -> Result<(), Error> {
    auth.0.actor.require(Permission::Administer)
}

async fn form_post(auth: &PageAuth, body: &Bytes) -> Result<FormData, Error> {
    let f = FormData(parse_form(body));
    auth.check_csrf(&f.get("csrf"))?;
    admin_guard(auth)?;
    Ok(f)
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    base: Base,
    users: Vec<User>,
    units: Vec<Unit>,
    roles: &'static [Role],
    /// Why the creation form was refused (empty when it was not).
    errors: Vec<String>,
    /// What was typed in the creation form (never the password).
    typed: Typed,
}

/// The creation form as typed, shown again when it is refused.
#[derive(Default)]
struct Typed {
    username: String,
    display_name: String,
    unit_id: Option<u32>,
    roles: Vec<Role>,
}

impl UsersPage {
    fn unit_name(&self, id: &Option<u32>) -> String {
        id.and_then(|i| self.units.iter().find(|u| u.id == i))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }
    fn typed_unit(&self, id: &u32) -> bool {
        self.typed.unit_id == Some(*id)
    }
    fn typed_role(&self, r: &Role) -> bool {
        self.typed.roles.contains(r)
    }
    fn role_names(&self, u: &User) -> String {
        u.roles
            .iter()
            .map(|r| r.label(&self.base.lang))
            .collect::<Vec<_>>()
            .join("、")
    }
}

pub async fn users(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let users = app.run(move |s| s.users(&actor)).await.page(&l)?;
    Ok(render(&UsersPage {
        base: Base::new(&l, "admin.users", Some(&auth.0), &app),
        users,
        units: app.svc.units(),
        roles: Role::ALL,
        errors: vec![],
        typed: Typed::default(),
    }))
}

pub async fn create_user(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let roles: Vec<Role> = f
        .all("roles")
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    let n = NewUser {
        username: f.get("username"),
        password: f.get("password"),
        display_name: f.get("display_name"),
        roles,
        unit_id: f.opt_u32("unit_id"),
    };
    let typed = Typed {
        username: n.username.clone(),
        display_name: n.display_name.clone(),
        unit_id: n.unit_id,
        roles: n.roles.clone(),
    };
    let actor = auth.0.actor.clone();
    match app.run_hashing(move |s| s.create_user(&actor, n)).await {
        Ok(_) => Ok(see_other("/admin/users")),
        // Refused input: the page again with what was typed and why.
        Err(e @ (Error::Validation(_) | Error::Conflict(_) | Error::BadRequest(_))) => {
            let status = crate::http::problem::status_of(&e);
            let errors = match e {
                Error::Validation(v) => v.into_iter().map(|f| f.message).collect(),
                other => vec![crate::http::pages::error_text::detail(&other, &l)],
            };
            let actor = auth.0.actor.clone();
            let users = app.run(move |s| s.users(&actor)).await.page(&l)?;
            let mut r = render(&UsersPage {
                base: Base::new(&l, "admin.users", Some(&auth.0), &app),
                users,
                units: app.svc.units(),
                roles: Role::ALL,
                errors,
                typed,
            });
            *r.status_mut() = status;
            Ok(r)
        }
        Err(e) => Err(e).page(&l),
    }
}

pub async fn update_user(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<u32>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let mut p = UserPatch::default();
    match f.get("op").as_str() {
        "enable" => p.enabled = Some(true),
        "disable" => p.enabled = Some(false),
        "password" => p.password = Some(f.get("password")),
        "edit" => {
            p.display_name = Some(f.get("display_name"));
            p.roles = Some(
                f.all("roles")
                    .iter()
                    .filter_map(|r| Role::parse(r))
                    .collect(),
            );
            match f.opt_u32("unit_id") {
                Some(u) => p.unit_id = Some(u),
                None => p.clear_unit = true,
            }
        }
        _ => return Err(Error::BadRequest("unknown operation".into())).page(&l),
    }
    let actor = auth.0.actor.clone();
    app.run_hashing(move |s| s.update_user(&actor, id, p))
        .await
        .page(&l)?;
    Ok(see_other("/admin/users"))
}

#[derive(Template)]
#[template(path = "admin_user_edit.html")]
struct UserEditPage {
    base: Base,
    user: User,
    units: Vec<Unit>,
    roles: &'static [Role],
}

impl UserEditPage {
    fn has_role(&self, r: &Role) -> bool {
        self.user.roles.contains(r)
    }
    fn is_unit(&self, id: &u32) -> bool {
        self.user.unit_id == Some(*id)
    }
}

/// `GET /admin/users/{id}/edit`: name, roles and unit of an existing user.
pub async fn edit_user(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<u32>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let users = app.run(move |s| s.users(&actor)).await.page(&l)?;
    let user = users
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| Error::NotFound(format!("用户 {id} 不存在 (user {id} not found)")))
        .page(&l)?;
    Ok(render(&UserEditPage {
        base: Base::new(&l, "admin.edit_user", Some(&auth.0), &app),
        user,
        units: app.svc.units(),
        roles: Role::ALL,
    }))
}

#[derive(Template)]
#[template(path = "admin_units.html")]
struct UnitsPage {
    base: Base,
    /// (unit, level) in tree order.
    rows: Vec<(Unit, u8)>,
    level2: Vec<Unit>,
}

pub async fn units(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    admin_guard(&auth).page(&l)?;
    let dir = app.svc.dir();
    let mut rows = vec![];
    for u in dir.units.iter().filter(|u| u.parent_id.is_none()) {
        rows.push((u.clone(), 2));
        for c in dir.units.iter().filter(|c| c.parent_id == Some(u.id)) {
            rows.push((c.clone(), 3));
        }
    }
    let level2 = dir
        .units
        .iter()
        .filter(|u| u.parent_id.is_none())
        .cloned()
        .collect();
    Ok(render(&UnitsPage {
        base: Base::new(&l, "admin.units", Some(&auth.0), &app),
        rows,
        level2,
    }))
}

pub async fn create_unit(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let n = NewUnit {
        name: f.get("name"),
        parent_id: f.opt_u32("parent_id"),
    };
    let actor = auth.0.actor.clone();
    app.run(move |s| s.create_unit(&actor, n)).await.page(&l)?;
    Ok(see_other("/admin/units"))
}

pub async fn update_unit(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<u32>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let p = UnitPatch {
        name: Some(f.get("name")).filter(|n| !n.is_empty()),
        enabled: match f.get("op").as_str() {
            "enable" => Some(true),
            "disable" => Some(false),
            _ => None,
        },
    };
    let actor = auth.0.actor.clone();
    app.run(move |s| s.update_unit(&actor, id, p))
        .await
        .page(&l)?;
    Ok(see_other("/admin/units"))
}

pub async fn import_units(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let csv = f.get("csv");
    let actor = auth.0.actor.clone();
    app.run(move |s| s.import_units_csv(&actor, &csv))
        .await
        .page(&l)?;
    Ok(see_other("/admin/units"))
}

#[derive(Template)]
#[template(path = "admin_categories.html")]
struct CategoriesPage {
    base: Base,
    /// Each top-level category with everything below it, in code order:
    /// one folded `<details>` each, so the page stays small (issue 11: the
    /// whole tree with a unit list per row was 795 KB).
    groups: Vec<(Category, Vec<Category>)>,
    units: Vec<Unit>,
}

impl CategoriesPage {
    fn depth(&self, c: &Category) -> usize {
        c.code.len() / 2 - 1
    }
    fn unit_name(&self, id: &Option<u32>) -> String {
        id.and_then(|i| self.units.iter().find(|u| u.id == i))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| "—".into())
    }
}

/// Categories grouped under their top-level category (code order).
fn category_groups(mut cats: Vec<Category>) -> Vec<(Category, Vec<Category>)> {
    cats.sort_by(|a, b| a.code.cmp(&b.code));
    let mut groups: Vec<(Category, Vec<Category>)> = vec![];
    for c in cats {
        match groups.last_mut() {
            Some((top, rows)) if c.code.starts_with(&top.code) && c.code != top.code => {
                rows.push(c)
            }
            // The group's rows start with the top-level category itself.
            _ => groups.push((c.clone(), vec![c])),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "admin_category_edit.html")]
struct CategoryEditPage {
    base: Base,
    category: Category,
    path: String,
    units: Vec<Unit>,
}

impl CategoryEditPage {
    fn is_unit(&self, id: &u32) -> bool {
        self.category.default_unit_id == Some(*id)
    }
}

/// `GET /admin/categories/{code}/edit`: the default unit of one category
/// (one unit list on the page instead of one per row).
pub async fn edit_category(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(code): PagePath<String>,
) -> PageResult {
    let l = lang(&headers);
    admin_guard(&auth).page(&l)?;
    let dir = app.svc.dir();
    let category = dir
        .category(&code)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("分类 {code} 不存在 (unknown category {code})")))
        .page(&l)?;
    Ok(render(&CategoryEditPage {
        base: Base::new(&l, "admin.categories", Some(&auth.0), &app),
        path: dir.category_path(&code),
        category,
        units: app.svc.units(),
    }))
}

pub async fn categories(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> PageResult {
    let l = lang(&headers);
    admin_guard(&auth).page(&l)?;
    Ok(render(&CategoriesPage {
        base: Base::new(&l, "admin.categories", Some(&auth.0), &app),
        groups: category_groups(app.svc.categories()),
        units: app.svc.units(),
    }))
}

pub async fn create_category(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let n = NewCategory {
        code: f.get("code"),
        name: f.get("name"),
        parent_code: Some(f.get("parent_code")),
        default_unit_id: f.opt_u32("default_unit_id"),
    };
    let actor = auth.0.actor.clone();
    app.run(move |s| s.create_category(&actor, n))
        .await
        .page(&l)?;
    Ok(see_other("/admin/categories"))
}

pub async fn update_category(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(code): PagePath<String>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let mut p = CategoryPatch::default();
    match f.get("op").as_str() {
        "enable" => p.enabled = Some(true),
        "disable" => p.enabled = Some(false),
        "unit" => match f.opt_u32("default_unit_id") {
            Some(u) => p.default_unit_id = Some(u),
            None => p.clear_default_unit = true,
        },
        _ => return Err(Error::BadRequest("unknown operation".into())).page(&l),
    }
    let actor = auth.0.actor.clone();
    app.run(move |s| s.update_category(&actor, &code, p))
        .await
        .page(&l)?;
    Ok(see_other("/admin/categories"))
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    base: Base,
    tokens: Vec<ApiToken>,
    users: Vec<User>,
    secret: String,
}

async fn tokens_page(app: &AppState, l: &str, auth: &PageAuth, secret: String) -> PageResult {
    let actor = auth.0.actor.clone();
    let a2 = actor.clone();
    let tokens = app.run(move |s| s.api_tokens(&actor)).await.page(l)?;
    let users = app.run(move |s| s.users(&a2)).await.page(l)?;
    Ok(render(&TokensPage {
        base: Base::new(l, "admin.tokens", Some(&auth.0), app),
        tokens,
        users,
        secret,
    }))
}

pub async fn tokens(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    tokens_page(&app, &l, &auth, String::new()).await
}

pub async fn create_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = form_post(&auth, &body).await.page(&l)?;
    let actor = auth.0.actor.clone();
    let (name, uid) = (f.get("name"), f.opt_u32("user_id").unwrap_or(0));
    let (_, secret) = app
        .run(move |s| s.create_api_token(&actor, &name, uid))
        .await
        .page(&l)?;
    tokens_page(&app, &l, &auth, secret).await
}

pub async fn revoke_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<u32>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    form_post(&auth, &body).await.page(&l)?;
    let actor = auth.0.actor.clone();
    app.run(move |s| s.revoke_api_token(&actor, id))
        .await
        .page(&l)?;
    Ok(see_other("/admin/tokens"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parsing() {
        let f = parse_form(b"a=1&roles=operator&roles=admin&n=%E5%BC%A0+%E4%B8%89&bad=%zz&end=%4");
        assert_eq!(f[0], ("a".into(), "1".into()));
        assert_eq!(f[1].1, "operator");
        assert_eq!(f[2].1, "admin");
        assert_eq!(f[3].1, "张 三");
        assert_eq!(f[4].1, "%zz");
        assert_eq!(f[5].1, "%4");
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    base: Base,
    entries: Vec<crate::service::audit::AuditEntry>,
    next: Option<u64>,
    units: Vec<Unit>,
}

impl AuditPage {
    fn action(&self, a: &str) -> String {
        super::audit_text::action_label(&self.base.lang, a)
    }
    /// A bulletin's period key (`2026-W48`) in words; other targets as stored.
    fn target(&self, t: &str) -> String {
        if t.contains("-W") || t.contains("-Q") {
            // `weekly/2026-W48`: the key after the kind.
            match t.split_once('/') {
                Some((kind, key)) => format!(
                    "{kind}/{}",
                    super::period_text::period_name(&self.base.lang, key)
                ),
                None => super::period_text::period_name(&self.base.lang, t),
            }
        } else {
            t.to_string()
        }
    }
    fn detail(&self, d: &str) -> String {
        let name = |id: u32| {
            self.units
                .iter()
                .find(|u| u.id == id)
                .map_or_else(|| id.to_string(), |u| u.name.clone())
        };
        let text = super::audit_text::detail_text(&self.base.lang, d, &name);
        text.split(' ')
            .map(|w| self.target(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// `2026-11-22T10:31:05+08:00` (already in the center's zone) →
    /// `2026-11-22 10:31:05`.
    fn at(&self, s: &str) -> String {
        s.get(..19).unwrap_or(s).replace('T', " ")
    }
}

#[derive(serde::Deserialize)]
pub struct Before {
    before: Option<u64>,
}

pub async fn audit(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    axum::extract::Query(b): axum::extract::Query<Before>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let entries = app
        .run(move |s| s.audit_log(&actor, b.before, 100))
        .await
        .page(&l)?;
    let next = (entries.len() == 100)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(render(&AuditPage {
        base: Base::new(&l, "admin.audit", Some(&auth.0), &app),
        entries,
        next,
        units: app.svc.units(),
    }))
}
