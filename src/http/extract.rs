//! Request extractors whose rejections are problem+json with a message a
//! person can act on, instead of axum's plain-text defaults.

use axum::extract::rejection::{JsonRejection, QueryRejection};
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
