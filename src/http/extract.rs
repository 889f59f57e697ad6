//! Request extractors whose rejections are problem+json with a message a
//! person can act on, instead of axum's plain-text defaults.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use crate::error::Error;

/// `Json<T>` with problem+json rejections.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(ApiError(json_error(r))),
        }
    }
}

fn json_error(r: JsonRejection) -> Error {
    match r {
        JsonRejection::MissingJsonContentType(_) => Error::BadRequest(
            "请求体须为 JSON，Content-Type: application/json (expected a JSON body)".into(),
        ),
        JsonRejection::JsonSyntaxError(e) => {
            Error::BadRequest(format!("JSON 格式错误 (invalid JSON): {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            Error::BadRequest(format!("JSON 字段有误 (invalid fields): {}", e.body_text()))
        }
        JsonRejection::BytesRejection(e) => {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge("请求体过大 (request body too large)".into())
            } else {
                Error::BadRequest(e.body_text())
            }
        }
        other => Error::BadRequest(other.body_text()),
    }
}

/// `Query<T>` with problem+json rejections.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError(
                Error::BadRequest(format!("查询参数有误 (invalid query): {}", e.body_text())),
            )),
            Err(e) => Err(ApiError(Error::BadRequest(e.body_text()))),
        }
    }
}

/// `Path<T>` with problem+json rejections: a segment that is not what the
/// route expects (e.g. a non-numeric id) is a 400 with the reason, never
/// axum's plain-text answer.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError(path_error(e))),
        }
    }
}

/// The message of a path rejection, for the API and the pages alike.
pub fn path_error(e: PathRejection) -> Error {
    match e {
        PathRejection::FailedToDeserializePathParams(e) => Error::BadRequest(format!(
            "路径参数有误 (invalid path segment): {}",
            e.body_text()
        )),
        other => Error::BadRequest(other.body_text()),
    }
}

/// A query value outside the range the API documents is refused (400),
/// not silently clamped, so that the OpenAPI `minimum`/`maximum` are true.
pub fn in_range<N: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    v: Option<N>,
    lo: N,
    hi: N,
) -> Result<Option<N>, Error> {
    match v {
        Some(n) if n < lo || n > hi => Err(Error::BadRequest(format!(
            "{field} 须为 {lo}–{hi} ({field} must be {lo}–{hi})"
        ))),
        other => Ok(other),
    }
}

/// `Path<T>` for pages: a bad segment shows the error page (400) in the
/// viewer's language instead of axum's plain text.
pub struct PagePath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PagePath<T> {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PagePath(v)),
            Err(e) => {
                let lang = super::pages::lang(&parts.headers);
                Err(super::pages::error_page(path_error(e), Some(&lang)))
            }
        }
    }
}
