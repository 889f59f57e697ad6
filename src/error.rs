//! User errors vs internal errors, mapped to HTTP once (in `http::problem`).
//!
//! A user error carries a message a person can act on, in Chinese first
//! with the English in parentheses; an internal error carries details for
//! the log only.

use crate::domain::ticket::FieldError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("输入有误 (invalid input)")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// A part of the program that is not available (yet), e.g. search.
    #[error("{0}")]
    Unavailable(String),
    /// The disk is full: nothing was written (507).
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }
    pub fn ticket_not_found(n: &str) -> Self {
        Error::NotFound(format!("工单 {n} 不存在 (ticket {n} not found)"))
    }
}

impl From<std::io::Error> for Error {
    /// A full disk becomes 507 with the reason; any other I/O error is internal.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull
            || crate::store::space::is_disk_full_text(&e.to_string())
        {
            Error::InsufficientStorage(crate::store::space::disk_full(0, 0).to_string())
        } else {
            Error::Internal(e.to_string())
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Error::Conflict(m),
            StoreError::NotFound(m) => Error::NotFound(m),
            StoreError::DiskFull(m) => Error::InsufficientStorage(m),
            other => Error::Internal(other.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
