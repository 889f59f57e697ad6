//! Use cases. Each takes the acting person (`Actor`), checks what they may
//! do and see, and calls the store. Services are synchronous; the HTTP
//! layer runs them on the blocking pool.
//!
//! Architecture invariant: every ticket a department user can reach passes
//! through `Actor::scope` here, never through a template.

pub mod admin;
pub mod alarm;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod bulletins;
pub mod dashboard;
pub mod districts;
pub mod kb;
pub mod kpi_views;
pub mod public;
pub mod queue;
pub mod ranking;
pub mod reports;
pub mod search;
pub mod settings;
pub mod table;
pub mod tickets;
pub mod views;
pub mod workflow;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::domain::calendar::Calendar;
use crate::domain::org::{Category, OrgTree, Unit, User};
use crate::domain::permissions::{Permission, Scope, allowed};
use crate::domain::settings::Settings;
use crate::error::{Error, Result};
use crate::store::Store;

/// Small, read-mostly data every request needs, kept in memory and
/// refreshed after each change.
#[derive(Clone, Default)]
pub struct Directory {
    pub settings: Settings,
    pub calendar: Calendar,
    pub units: Vec<Unit>,
    pub tree: OrgTree,
    pub categories: Vec<Category>,
    pub user_names: std::collections::HashMap<u32, String>,
}

impl Directory {
    pub fn unit(&self, id: u32) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }
    pub fn unit_name(&self, id: u32) -> String {
        self.unit(id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories
            .binary_search_by(|c| c.code.as_str().cmp(code))
            .ok()
            .map(|i| &self.categories[i])
    }
    /// "0101 供水 / 停水" style path of a category.
    pub fn category_path(&self, code: &str) -> String {
        let mut names = vec![];
        let mut cur = self.category(code);
        while let Some(c) = cur {
            names.push(c.name.as_str());
            cur = c.parent_code.as_deref().and_then(|p| self.category(p));
        }
        names.reverse();
        if names.is_empty() {
            code.to_string()
        } else {
            names.join(" / ")
        }
    }
    pub fn user_name(&self, id: u32) -> String {
        if id == 0 {
            return "系统".into();
        }
        self.user_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }
}

/// Where data lives besides the store.
#[derive(Clone, Debug)]
pub struct Paths {
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn attachments(&self) -> PathBuf {
        self.data_dir.join("attachments")
    }
}

pub struct Services {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub paths: Paths,
    pub limits: Limits,
    dir: RwLock<Arc<Directory>>,
    pub throttle: auth::Throttle,
    /// Recent uploads and their uploaders (may reference them by hash).
    pub uploads: attachments::Uploads,
    notices: tokio::sync::broadcast::Sender<workflow::Notice>,
    /// The full-text index (derived data; see `search`).
    pub search: Arc<search::Search>,
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_attachment_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attachment_bytes: 20 * 1024 * 1024,
        }
    }
}

impl Services {
    pub fn new(store: Store, clock: Arc<dyn Clock>, paths: Paths, limits: Limits) -> Result<Self> {
        let search = search::Search::open(&store, &paths.data_dir.join("search"))?;
        let s = Services {
            search,
            store,
            clock,
            paths,
            limits,
            dir: RwLock::new(Arc::default()),
            throttle: auth::Throttle::default(),
            uploads: attachments::Uploads::default(),
            notices: tokio::sync::broadcast::channel(256).0,
        };
        s.reload()?;
        Ok(s)
    }

    /// Re-reads the directory from the store after a change.
    pub fn reload(&self) -> Result<()> {
        let units = self.store.units()?;
        let tree = OrgTree::new(&units);
        let users = self.store.users()?;
        let d = Directory {
            settings: self.store.settings()?,
            calendar: self.store.calendar()?,
            tree,
            units,
            categories: self.store.categories()?,
            user_names: users.into_iter().map(|u| (u.id, u.display_name)).collect(),
        };
        *self.dir.write().expect("directory lock") = Arc::new(d);
        Ok(())
    }

    pub fn dir(&self) -> Arc<Directory> {
        self.dir.read().expect("directory lock").clone()
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// The person (or integration) acting.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: User,
    pub scope: Scope,
}

impl Actor {
    pub fn new(user: User, dir: &Directory) -> Actor {
        let unit = user.unit_id;
        let scope = Scope::for_user(&user.roles, || {
            unit.map(|u| dir.tree.subtree(u)).unwrap_or_default()
        });
        Actor { user, scope }
    }

    pub fn can(&self, p: Permission) -> bool {
        allowed(&self.user.roles, p)
    }

    pub fn require(&self, p: Permission) -> Result<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "您的角色无权执行此操作 (your roles do not allow this: {p:?})"
            )))
        }
    }
}
