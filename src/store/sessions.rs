//! Login sessions and API tokens, stored by the SHA-256 of their secret so
//! that a copy of the data file does not let anyone in.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::tables::{API_TOKENS, SESSIONS};
use super::{Result, Store, StoreError, codec};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: u32,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: u32,
    pub name: String,
    /// The user whose roles the token acts with.
    pub user_id: u32,
    pub created_at: i64,
    pub created_by: u32,
    pub revoked: bool,
    /// The last four characters, to tell tokens apart in a list.
    pub hint: String,
}

impl Store {
    pub fn put_session(&self, hash: &str, s: &Session) -> Result<()> {
        let w = self.write_essential()?;
        {
            let mut t = w.open_table(SESSIONS)?;
            t.insert(hash, codec::encode(s).as_slice())?;
            // Sweep a few expired sessions on every login.
            let now = s.created_at;
            let expired: Vec<String> = t
                .iter()?
                .filter_map(|r| r.ok())
                .filter_map(|(k, v)| {
                    let s: Session = codec::decode("session", v.value()).ok()?;
                    (s.expires_at < now).then(|| k.value().to_string())
                })
                .take(100)
                .collect();
            for k in expired {
                t.remove(k.as_str())?;
            }
        }
        w.commit()?;
        Ok(())
    }

    pub fn session(&self, hash: &str) -> Result<Option<Session>> {
        let r = self.read()?;
        let t = r.open_table(SESSIONS)?;
        t.get(hash)?
            .map(|v| codec::decode("session", v.value()))
            .transpose()
    }

    pub fn delete_session(&self, hash: &str) -> Result<()> {
        let w = self.write_essential()?;
        w.open_table(SESSIONS)?.remove(hash)?;
        w.commit()?;
        Ok(())
    }

    /// Ends every session of a user (password change or reset, disabling).
    pub fn delete_sessions_of(&self, user_id: u32) -> Result<()> {
        let w = self.write_essential()?;
        {
            let mut t = w.open_table(SESSIONS)?;
            t.retain(|_, v| {
                codec::decode::<Session>("session", v)
                    .map(|s| s.user_id != user_id)
                    .unwrap_or(false)
            })?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn create_api_token(&self, hash: &str, mut tok: ApiToken) -> Result<ApiToken> {
        let w = self.write_essential()?;
        {
            let mut t = w.open_table(API_TOKENS)?;
            let mut max = 0;
            for row in t.iter()? {
                let (_, v) = row?;
                max = max.max(codec::decode::<ApiToken>("api token", v.value())?.id);
            }
            tok.id = max + 1;
            t.insert(hash, codec::encode(&tok).as_slice())?;
        }
        w.commit()?;
        Ok(tok)
    }

    pub fn api_token(&self, hash: &str) -> Result<Option<ApiToken>> {
        let r = self.read()?;
        let t = r.open_table(API_TOKENS)?;
        t.get(hash)?
            .map(|v| codec::decode("api token", v.value()))
            .transpose()
    }

    pub fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let r = self.read()?;
        let t = r.open_table(API_TOKENS)?;
        let mut v: Vec<ApiToken> = t
            .iter()?
            .map(|row| {
                let (_, v) = row?;
                codec::decode("api token", v.value())
            })
            .collect::<Result<_>>()?;
        v.sort_by_key(|t| t.id);
        Ok(v)
    }

    pub fn revoke_api_token(&self, id: u32) -> Result<()> {
        let w = self.write_essential()?;
        {
            let mut t = w.open_table(API_TOKENS)?;
            let mut found = None;
            for row in t.iter()? {
                let (k, v) = row?;
                let tok: ApiToken = codec::decode("api token", v.value())?;
                if tok.id == id {
                    found = Some((k.value().to_string(), tok));
                }
            }
            let Some((k, mut tok)) = found else {
                return Err(StoreError::NotFound(format!("API token {id} not found")));
            };
            tok.revoked = true;
            t.insert(k.as_str(), codec::encode(&tok).as_slice())?;
        }
        w.commit()?;
        Ok(())
    }
}
