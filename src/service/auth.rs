//! Passwords, sessions, API tokens, first-run setup and login throttling.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Actor, Services};
use crate::domain::org::{User, check_password, check_username, normalize_username};
use crate::domain::permissions::Permission;
use crate::domain::ticket::{FieldError, clean_line, limits};
use crate::domain::types::Role;
use crate::error::{Error, Result};
use crate::store::sessions::{ApiToken, Session};

/// How long a login lasts: one long shift.
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// Failed logins allowed per account / per address within the window.
pub const MAX_FAILS_ACCOUNT: u32 = 5;
pub const MAX_FAILS_ADDRESS: u32 = 20;
pub const FAIL_WINDOW_SECONDS: i64 = 15 * 60;

/// Sessions, logins and password changes use the wall clock (unix
/// seconds), so that moving the dev clock never logs anyone out.
fn wall_clock() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn hash_password(pw: &str) -> Result<String> {
    let h = Argon2::default()
        .hash_password(pw.as_bytes())
        .map_err(Error::internal);
    give_back_memory();
    Ok(h?.to_string())
}

pub fn verify_password(pw: &str, phc: &str) -> bool {
    let ok = match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    };
    give_back_memory();
    ok
}

/// argon2id allocates 19 MiB per hash; glibc keeps freed blocks in each
/// thread's arena, so a login storm grows the process by hundreds of MB.
/// Hand the memory back to the system after each hash.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it has no
    // preconditions and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A known hash of a random password, verified when the user does not
/// exist so that both answers take the same time.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_hex(16)).expect("hash"))
}

#[derive(Default)]
struct Fails {
    count: u32,
    since: i64,
}

/// Counts failed logins per account and per address.
#[derive(Default)]
pub struct Throttle {
    fails: Mutex<HashMap<String, Fails>>,
}

impl Throttle {
    /// `u` is already [`normalize_username`]d.
    fn key_account(u: &str) -> String {
        format!("u:{u}")
    }
    fn key_addr(a: IpAddr) -> String {
        format!("a:{a}")
    }

    /// Seconds to wait, if locked.
    fn locked(&self, key: &str, max: u32, now: i64) -> Option<u64> {
        let map = self.fails.lock().expect("throttle lock");
        let f = map.get(key)?;
        let until = f.since + FAIL_WINDOW_SECONDS;
        (f.count >= max && now < until).then(|| (until - now) as u64)
    }

    fn fail(&self, key: String, now: i64) {
        let mut map = self.fails.lock().expect("throttle lock");
        if map.len() > 100_000 {
            map.retain(|_, f| now - f.since < FAIL_WINDOW_SECONDS);
        }
        let f = map.entry(key).or_default();
        if now - f.since >= FAIL_WINDOW_SECONDS {
            *f = Fails {
                count: 0,
                since: now,
            };
        }
        f.count += 1;
    }

    fn clear(&self, key: &str) {
        self.fails.lock().expect("throttle lock").remove(key);
    }
}

/// What a successful login hands back.
pub struct LoggedIn {
    pub user: User,
    /// The secret for the cookie.
    pub token: String,
    pub csrf_token: String,
}

impl Services {
    /// Whether the first-run setup is still open (no user at all).
    pub fn needs_setup(&self) -> Result<bool> {
        Ok(self.store.user_count()? == 0)
    }

    /// First run: creates the administrator. Refused once any user exists.
    pub fn setup(&self, username: &str, password: &str, display_name: &str) -> Result<User> {
        if !self.needs_setup()? {
            return Err(Error::Conflict(
                "系统已初始化，管理员已存在 (setup is done: an administrator exists)".into(),
            ));
        }
        let u = self.new_user_record(username, password, display_name, vec![Role::Admin], None)?;
        let u = self.store.create_user(u)?;
        self.reload()?;
        self.audit(u.id, "setup", &u.username, "first administrator");
        Ok(u)
    }

    pub(crate) fn new_user_record(
        &self,
        username: &str,
        password: &str,
        display_name: &str,
        roles: Vec<Role>,
        unit_id: Option<u32>,
    ) -> Result<User> {
        let mut errors: Vec<FieldError> = vec![];
        let username = username.trim();
        if let Err(m) = check_username(username) {
            errors.push(FieldError::new("username", m));
        }
        if let Err(m) = check_password(password) {
            errors.push(FieldError::new("password", m));
        }
        let display = clean_line("display_name", display_name, limits::NAME, &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let now = wall_clock();
        Ok(User {
            id: 0,
            username: username.to_string(),
            display_name: if display.is_empty() {
                username.to_string()
            } else {
                display
            },
            password_hash: hash_password(password)?,
            roles,
            unit_id,
            enabled: true,
            created_at: now,
            password_changed_at: now,
        })
    }

    /// Checks a password and opens a session. Throttled per account and per
    /// address; the answer does not tell a wrong name from a wrong password.
    pub fn login(&self, username: &str, password: &str, addr: IpAddr) -> Result<LoggedIn> {
        let now = wall_clock();
        // One normal form for the throttle and the lookup (issue 12.1).
        let username = normalize_username(username);
        let username = username.as_str();
        let ka = Throttle::key_account(username);
        let kd = Throttle::key_addr(addr);
        for (k, max) in [(&ka, MAX_FAILS_ACCOUNT), (&kd, MAX_FAILS_ADDRESS)] {
            if let Some(wait) = self.throttle.locked(k, max, now) {
                return Err(Error::TooManyRequests {
                    message: format!(
                        "登录失败次数过多，请{}分钟后再试 (too many failed logins; try again in {} minutes)",
                        wait.div_ceil(60),
                        wait.div_ceil(60)
                    ),
                    retry_after: wait,
                });
            }
        }
        let user = self.store.user_by_name(username)?;
        let ok = match &user {
            Some(u) => verify_password(password, &u.password_hash) && u.enabled,
            None => {
                verify_password(password, dummy_hash());
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            self.throttle.fail(ka, now);
            self.throttle.fail(kd, now);
            self.audit(0, "login.failed", username, &addr.to_string());
            return Err(Error::Unauthorized(
                "用户名或密码错误 (wrong username or password)".into(),
            ));
        };
        self.throttle.clear(&ka);
        self.audit(user.id, "login", &user.username, &addr.to_string());
        let token = random_hex(32);
        let csrf_token = random_hex(16);
        self.store.put_session(
            &sha256_hex(&token),
            &Session {
                user_id: user.id,
                csrf_token: csrf_token.clone(),
                created_at: now,
                expires_at: now + SESSION_SECONDS,
            },
        )?;
        Ok(LoggedIn {
            user,
            token,
            csrf_token,
        })
    }

    /// The person behind a session cookie, with the session's CSRF token.
    pub fn session_actor(&self, token: &str) -> Result<Option<(Actor, String)>> {
        let Some(s) = self.store.session(&sha256_hex(token))? else {
            return Ok(None);
        };
        // Sessions follow the wall clock, never the dev clock.
        if s.expires_at < wall_clock() {
            return Ok(None);
        }
        let Some(user) = self.store.user(s.user_id)? else {
            return Ok(None);
        };
        if !user.enabled || s.created_at < user.password_changed_at {
            return Ok(None);
        }
        Ok(Some((Actor::new(user, &self.dir()), s.csrf_token)))
    }

    pub fn logout(&self, token: &str) -> Result<()> {
        Ok(self.store.delete_session(&sha256_hex(token))?)
    }

    /// The person behind an API token (`Authorization: Bearer …`).
    pub fn token_actor(&self, token: &str) -> Result<Option<Actor>> {
        let Some(t) = self.store.api_token(&sha256_hex(token))? else {
            return Ok(None);
        };
        if t.revoked {
            return Ok(None);
        }
        let Some(user) = self.store.user(t.user_id)? else {
            return Ok(None);
        };
        if !user.enabled {
            return Ok(None);
        }
        Ok(Some(Actor::new(user, &self.dir())))
    }

    /// Changes one's own password after checking the current one; ends every
    /// other session of the user.
    pub fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        let user = self
            .store
            .user(actor.user.id)?
            .ok_or_else(|| Error::NotFound("user not found".into()))?;
        if !verify_password(current, &user.password_hash) {
            return Err(Error::field(
                "current_password",
                "当前密码不正确 (current password is wrong)",
            ));
        }
        check_password(new).map_err(|m| Error::field("new_password", m))?;
        let name = user.username.clone();
        self.set_password(user, new)?;
        self.audit(actor.user.id, "password.change", &name, "");
        Ok(())
    }

    pub(crate) fn set_password(&self, mut user: User, new: &str) -> Result<()> {
        user.password_hash = hash_password(new)?;
        // Sessions created at or before this second become invalid.
        user.password_changed_at = wall_clock();
        self.store.update_user(&user)?;
        self.store.delete_sessions_of(user.id)?;
        Ok(())
    }

    /// Creates an API token acting as `user_id`; the secret is returned once
    /// and stored only as its hash.
    pub fn create_api_token(
        &self,
        actor: &Actor,
        name: &str,
        user_id: u32,
    ) -> Result<(ApiToken, String)> {
        actor.require(Permission::Administer)?;
        let mut errors = vec![];
        let name = clean_line("name", name, limits::NAME, &mut errors);
        if name.is_empty() {
            errors.push(FieldError::new("name", "请填写名称 (a name is required)"));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if self.store.user(user_id)?.is_none() {
            return Err(Error::field(
                "user_id",
                format!("用户 {user_id} 不存在 (user {user_id} not found)"),
            ));
        }
        let secret = format!("hlt_{}", random_hex(24));
        let tok = self.store.create_api_token(
            &sha256_hex(&secret),
            ApiToken {
                id: 0,
                name,
                user_id,
                created_at: self.now().as_second(),
                created_by: actor.user.id,
                revoked: false,
                hint: secret[secret.len() - 4..].to_string(),
            },
        )?;
        self.audit(
            actor.user.id,
            "token.create",
            &tok.name,
            &format!("id={} user={}", tok.id, tok.user_id),
        );
        Ok((tok, secret))
    }

    pub fn api_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        actor.require(Permission::Administer)?;
        Ok(self.store.api_tokens()?)
    }

    pub fn revoke_api_token(&self, actor: &Actor, id: u32) -> Result<()> {
        actor.require(Permission::Administer)?;
        self.store.revoke_api_token(id)?;
        self.audit(actor.user.id, "token.revoke", &id.to_string(), "");
        Ok(())
    }

    /// Recovery from the command line: creates an administrator, or resets
    /// a user's password.
    pub fn create_admin_cli(&self, username: &str, password: &str) -> Result<User> {
        let u = self.new_user_record(username, password, username, vec![Role::Admin], None)?;
        let u = self.store.create_user(u)?;
        self.reload()?;
        self.audit(
            0,
            "user.create",
            &u.username,
            "administrator created on the command line",
        );
        Ok(u)
    }

    pub fn reset_password_cli(&self, username: &str, password: &str) -> Result<()> {
        let user = self.store.user_by_name(username)?.ok_or_else(|| {
            Error::NotFound(format!("用户 {username} 不存在 (no user {username})"))
        })?;
        check_password(password).map_err(|m| Error::field("password", m))?;
        self.set_password(user, password)?;
        self.audit(0, "password.reset", username, "on the command line");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn throttle_locks_then_expires() {
        let t = Throttle::default();
        for _ in 0..MAX_FAILS_ACCOUNT {
            assert!(t.locked("u:a", MAX_FAILS_ACCOUNT, 100).is_none());
            t.fail("u:a".into(), 100);
        }
        assert!(t.locked("u:a", MAX_FAILS_ACCOUNT, 101).is_some());
        assert!(t.locked("u:b", MAX_FAILS_ACCOUNT, 101).is_none());
        assert!(
            t.locked("u:a", MAX_FAILS_ACCOUNT, 100 + FAIL_WINDOW_SECONDS)
                .is_none()
        );
        t.clear("u:a");
        assert!(t.locked("u:a", MAX_FAILS_ACCOUNT, 101).is_none());
    }
}
