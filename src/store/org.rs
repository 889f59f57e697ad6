//! Users, units and categories. Nothing here is ever deleted.

use redb::{ReadableTable, ReadableTableMetadata};

use super::tables::{CATEGORIES, UNITS, USERNAMES, USERS};
use super::{Result, Store, StoreError, codec};
use crate::domain::org::{Category, Unit, User};

impl Store {
    pub fn user_count(&self) -> Result<u64> {
        Ok(self.read()?.open_table(USERS)?.len()?)
    }

    /// Inserts a new user; `user.id` is ignored and assigned.
    pub fn create_user(&self, mut user: User) -> Result<User> {
        let w = self.write()?;
        {
            let mut names = w.open_table(USERNAMES)?;
            let key = user.username.to_lowercase();
            if names.get(key.as_str())?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "用户名“{}”已存在 (username {} is taken)",
                    user.username, user.username
                )));
            }
            let mut users = w.open_table(USERS)?;
            user.id = users.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            names.insert(key.as_str(), user.id)?;
            users.insert(user.id, codec::encode(&user).as_slice())?;
        }
        w.commit()?;
        Ok(user)
    }

    /// Replaces a user record (the username never changes).
    pub fn update_user(&self, user: &User) -> Result<()> {
        let w = self.write()?;
        {
            let mut users = w.open_table(USERS)?;
            if users.get(user.id)?.is_none() {
                return Err(StoreError::NotFound(format!("user {} not found", user.id)));
            }
            users.insert(user.id, codec::encode(user).as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn user(&self, id: u32) -> Result<Option<User>> {
        let r = self.read()?;
        let t = r.open_table(USERS)?;
        t.get(id)?
            .map(|v| codec::decode("user", v.value()))
            .transpose()
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let r = self.read()?;
        let names = r.open_table(USERNAMES)?;
        let Some(id) = names
            .get(username.to_lowercase().as_str())?
            .map(|v| v.value())
        else {
            return Ok(None);
        };
        let t = r.open_table(USERS)?;
        t.get(id)?
            .map(|v| codec::decode("user", v.value()))
            .transpose()
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let r = self.read()?;
        let t = r.open_table(USERS)?;
        t.iter()?
            .map(|row| {
                let (_, v) = row?;
                codec::decode("user", v.value())
            })
            .collect()
    }

    /// Inserts a new unit; `unit.id` is assigned. Names are unique.
    pub fn create_unit(&self, mut unit: Unit) -> Result<Unit> {
        let w = self.write()?;
        {
            let mut t = w.open_table(UNITS)?;
            for row in t.iter()? {
                let (_, v) = row?;
                let u: Unit = codec::decode("unit", v.value())?;
                if u.name == unit.name {
                    return Err(StoreError::Conflict(format!(
                        "单位“{}”已存在 (unit {} exists, id {})",
                        unit.name, unit.name, u.id
                    )));
                }
            }
            unit.id = t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            t.insert(unit.id, codec::encode(&unit).as_slice())?;
        }
        w.commit()?;
        Ok(unit)
    }

    pub fn update_unit(&self, unit: &Unit) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(UNITS)?;
            for row in t.iter()? {
                let (_, v) = row?;
                let u: Unit = codec::decode("unit", v.value())?;
                if u.name == unit.name && u.id != unit.id {
                    return Err(StoreError::Conflict(format!(
                        "单位“{}”已存在 (unit {} exists)",
                        unit.name, unit.name
                    )));
                }
            }
            if t.get(unit.id)?.is_none() {
                return Err(StoreError::NotFound(format!("unit {} not found", unit.id)));
            }
            t.insert(unit.id, codec::encode(unit).as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn units(&self) -> Result<Vec<Unit>> {
        let r = self.read()?;
        let t = r.open_table(UNITS)?;
        t.iter()?
            .map(|row| {
                let (_, v) = row?;
                codec::decode("unit", v.value())
            })
            .collect()
    }

    pub fn create_category(&self, c: &Category) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(CATEGORIES)?;
            if t.get(c.code.as_str())?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "分类编码 {} 已存在 (category code {} exists)",
                    c.code, c.code
                )));
            }
            t.insert(c.code.as_str(), codec::encode(c).as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn update_category(&self, c: &Category) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(CATEGORIES)?;
            if t.get(c.code.as_str())?.is_none() {
                return Err(StoreError::NotFound(format!(
                    "category {} not found",
                    c.code
                )));
            }
            t.insert(c.code.as_str(), codec::encode(c).as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    /// Every category, in code order.
    pub fn categories(&self) -> Result<Vec<Category>> {
        let r = self.read()?;
        let t = r.open_table(CATEGORIES)?;
        t.iter()?
            .map(|row| {
                let (_, v) = row?;
                codec::decode("category", v.value())
            })
            .collect()
    }
}
