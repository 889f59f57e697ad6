//! The citizens' API (no login): submit a request, look up its progress.
//!
//! `POST /api/v1/public/tickets` takes JSON, or `multipart/form-data` with
//! the same field names plus photos in `files` (jpg, png, gif, webp; at most
//! six). `GET /api/v1/public/tickets/{number}?phone_last4=` answers the
//! public view of a ticket, or one and the same 404 problem for a wrong
//! suffix, a malformed number or a missing ticket. Both are rate-limited per
//! client address (429 with `Retry-After`); see `service::public`.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::ApiJson;
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::{JSON_LIMIT, UPLOAD_LIMIT};
use crate::service::public::{MAX_PHOTOS, PublicSubmission, PublicTicket, Submitted, limiter};

/// The client's address (from the connection; see `auth::client_addr`).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientIp(crate::http::auth::client_addr(parts)))
    }
}

/// Text fields and photos of a multipart form.
#[derive(Default)]
pub struct Form {
    pub fields: std::collections::HashMap<String, String>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Form {
    pub fn get(&self, k: &str) -> String {
        self.fields.get(k).cloned().unwrap_or_default()
    }

    /// The submission these fields describe.
    pub fn submission(&self) -> PublicSubmission {
        let on = |k: &str| matches!(self.get(k).trim(), "1" | "on" | "true" | "yes");
        PublicSubmission {
            caller_phone: self.get("caller_phone"),
            caller_name: self.get("caller_name"),
            confidential: on("confidential"),
            appeal_type: self.get("appeal_type"),
            category_code: Some(self.get("category_code")),
            district: self.get("district"),
            street: self.get("street"),
            address: self.get("address"),
            title: self.get("title"),
            content: self.get("content"),
        }
    }
}

/// Reads a multipart form: text fields, and files from `files` (or
/// `file`); empty file parts (a file input left empty) are skipped. Reading
/// stops with a field error once there are more photos than allowed.
pub async fn read_form(mut mp: Multipart) -> Result<Form, Error> {
    let mut f = Form::default();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(super::tickets::multipart_error)?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "files" || name == "file" {
            let fname = field.file_name().unwrap_or("").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(super::tickets::multipart_error)?;
            if bytes.is_empty() && fname.is_empty() {
                continue;
            }
            if f.files.len() >= MAX_PHOTOS {
                return Err(Error::field(
                    "files",
                    format!("最多上传{MAX_PHOTOS}张照片 (at most {MAX_PHOTOS} photos)"),
                ));
            }
            f.files.push((fname, bytes.to_vec()));
        } else {
            let text = field
                .text()
                .await
                .map_err(super::tickets::multipart_error)?;
            if f.fields.len() < 100 {
                f.fields.insert(name, text);
            }
        }
    }
    Ok(f)
}

/// Submits a request (channel `web`) and answers its number. JSON, or
/// `multipart/form-data` with the same fields and photos in `files`.
/// Emergencies are refused: call the hotline. Limited to 5 accepted
/// submissions (30 attempts) per hour per address.
#[utoipa::path(post, path = "/api/v1/public/tickets", tag = "public", security(()),
    request_body(description = "JSON, or multipart/form-data with the same fields and photos (jpg, png, gif, webp; at most 6) in `files`",
        content((PublicSubmission = "application/json"), (PublicSubmission = "multipart/form-data"))),
    responses(
        (status = 201, body = Submitted),
        (status = 400, body = Problem),
        (status = 413, body = Problem),
        (status = 422, body = Problem, description = "field errors"),
        (status = 429, body = Problem, headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn submit(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    limiter().begin_submission(ip)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let (sub, photos) = if multipart {
        let mp = Multipart::from_request(req, &app).await.map_err(|e| {
            Error::BadRequest(format!("上传格式有误 (bad upload): {}", e.body_text()))
        })?;
        let form = read_form(mp).await?;
        (form.submission(), form.files)
    } else {
        // The route allows uploads; a JSON body keeps the JSON limit.
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, JSON_LIMIT)
            .await
            .map_err(|_| Error::PayloadTooLarge("请求体过大 (request body too large)".into()))?;
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let ApiJson(b) = ApiJson::<PublicSubmission>::from_request(req, &app).await?;
        (b, vec![])
    };
    let out = app.run(move |s| s.submit_public(sub, photos)).await?;
    limiter().submitted(ip);
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// The last four digits of the phone number given with the request.
    pub phone_last4: Option<String>,
}

/// The progress of a request: state, dates, the unit handling it and the
/// public answer — never the caller's name or phone, notes or who acted.
/// A wrong phone suffix, a malformed number and a missing ticket all answer
/// the same 404. Limited to 20 lookups per 10 minutes per address, and 10
/// failed lookups per hour per number.
#[utoipa::path(get, path = "/api/v1/public/tickets/{number}", tag = "public", security(()),
    params(("number" = String, Path, description = "YYYYMMDD-NNNNNN"), LookupQuery),
    responses(
        (status = 200, body = PublicTicket),
        (status = 404, body = Problem, description = "no ticket matches the number and phone suffix"),
        (status = 429, body = Problem, headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn lookup(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    number: Result<Path<String>, PathRejection>,
    q: Result<Query<LookupQuery>, QueryRejection>,
) -> ApiResult<Json<PublicTicket>> {
    let number = number.map(|p| p.0).unwrap_or_default();
    let last4 = q.ok().and_then(|q| q.0.phone_last4).unwrap_or_default();
    Ok(Json(
        app.run(move |s| s.public_lookup_limited(ip, &number, &last4))
            .await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(submit))
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT));
    OpenApiRouter::new().routes(routes!(lookup)).merge(upload)
}
