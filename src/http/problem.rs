//! Errors as `application/problem+json` (RFC 9457) for the API and as an
//! HTML page for the browser — the one place where `error::Error` becomes
//! an HTTP status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ticket::FieldError;
use crate::error::Error;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, in words a person can act on.
    pub detail: String,
    /// Field-level validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message shown to the user (internal details stay in the log).
pub fn detail_of(e: &Error) -> String {
    match e {
        Error::Validation(errs) => {
            let parts: Vec<String> = errs
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            format!("输入有误 (invalid input): {}", parts.join("; "))
        }
        Error::Internal(_) => {
            "服务器内部错误，已记录日志 (internal error; it has been logged)".into()
        }
        other => other.to_string(),
    }
}

pub fn log_internal(e: &Error) {
    if let Error::Internal(m) = e {
        tracing::error!(error = %m, "internal error");
    }
}

/// An API error: renders as problem+json.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        log_internal(&e);
        let status = status_of(&e);
        let slug = match &e {
            Error::Validation(_) => "validation",
            Error::BadRequest(_) => "bad-request",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not-found",
            Error::Conflict(_) => "conflict",
            Error::PayloadTooLarge(_) => "too-large",
            Error::TooManyRequests { .. } => "too-many-requests",
            Error::Unavailable(_) => "unavailable",
            Error::InsufficientStorage(_) => "insufficient-storage",
            Error::Internal(_) => "internal",
        };
        let p = Problem {
            kind: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail_of(&e),
            errors: match &e {
                Error::Validation(v) => v.clone(),
                _ => vec![],
            },
        };
        let mut resp = (status, axum::Json(p)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Error::TooManyRequests { retry_after, .. } = e {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
