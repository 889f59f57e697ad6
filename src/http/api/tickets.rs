//! Tickets: intake, the multi-criteria query, the case file, actions and
//! attachments.

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, in_range};
use crate::http::problem::{ApiResult, Problem};
use crate::service::attachments::Uploaded;
use crate::service::tickets::{NewTicket, TicketPage, TicketQuery};
use crate::service::views::{EventView, TicketView};
use crate::service::workflow::ActionBody;

/// Registers a ticket. With a non-empty `answer` a consultation is closed
/// at intake.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = NewTicket,
    responses((status = 201, body = TicketView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<NewTicket>,
) -> ApiResult<(StatusCode, Json<TicketView>)> {
    let v = app.run(move |s| s.register(&a.actor, b)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The multi-criteria query, paged by `cursor`. Department users get only
/// their units' tickets, with masked phone numbers.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketQuery),
    responses((status = 200, body = TicketPage), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<TicketQuery>,
) -> ApiResult<Json<TicketPage>> {
    Ok(Json(app.run(move |s| s.query_tickets(&a.actor, &q)).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// The text to compare (e.g. the content being typed at intake).
    pub q: String,
    /// How many (1–20, default 5).
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<usize>,
}

/// Past tickets most similar to `q`, best first, with how they were
/// answered (`answer`, `reply`); only tickets the caller may see.
#[utoipa::path(get, path = "/api/v1/tickets/similar", tag = "tickets", params(SimilarQuery),
    responses((status = 200, body = Vec<TicketView>), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn similar(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<SimilarQuery>,
) -> ApiResult<Json<Vec<TicketView>>> {
    let n = in_range("limit", q.limit, 1, 20)?.unwrap_or(5);
    Ok(Json(
        app.run(move |s| s.similar_tickets(&a.actor, &q.q, n))
            .await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DangerQuery {
    /// What the caller said (the content typed so far).
    pub q: String,
}

/// What the intake page suggests for a text (`domain::triage`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DangerHint {
    /// Whether the text names a danger (gas, fire, collapse, electric
    /// shock, flooding).
    pub emergency: bool,
    /// Suggested appeal type and urgency (codes), when `emergency`.
    pub appeal_type: Option<String>,
    pub urgency: Option<String>,
    /// The kinds of danger found ("燃气") and the words.
    pub kinds: Vec<String>,
    pub words: Vec<String>,
}

/// Whether what the caller said names a danger, and what to register
/// then (抢险, 特急). A suggestion for the intake page; nothing is stored.
#[utoipa::path(get, path = "/api/v1/tickets/danger", tag = "tickets", params(DangerQuery),
    responses((status = 200, body = DangerHint), (status = 401, body = Problem)))]
pub async fn danger(
    ApiAuth(_a): ApiAuth,
    ApiQuery(q): ApiQuery<DangerQuery>,
) -> ApiResult<Json<DangerHint>> {
    let text: String = q.q.chars().take(2000).collect();
    Ok(Json(match crate::domain::triage::danger_in(&text) {
        Some(s) => DangerHint {
            emergency: true,
            appeal_type: Some(s.appeal_type.as_str().into()),
            urgency: Some(s.urgency.as_str().into()),
            kinds: s.kinds.iter().map(|k| k.to_string()).collect(),
            words: s.words.iter().map(|w| w.to_string()).collect(),
        },
        None => DangerHint {
            emergency: false,
            appeal_type: None,
            urgency: None,
            kinds: vec![],
            words: vec![],
        },
    }))
}

/// One ticket with its deadlines and supervision status.
#[utoipa::path(get, path = "/api/v1/tickets/{number}", tag = "tickets", params(("number" = String, Path, description = "YYYYMMDD-NNNNNN")),
    responses((status = 200, body = TicketView), (status = 404, body = Problem)))]
pub async fn get(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<TicketView>> {
    Ok(Json(app.run(move |s| s.ticket_view(&a.actor, &n)).await?))
}

/// The ticket's complete timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{number}/events", tag = "tickets", params(("number" = String, Path)),
    responses((status = 200, body = Vec<EventView>), (status = 404, body = Problem)))]
pub async fn events(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<Vec<EventView>>> {
    Ok(Json(app.run(move |s| s.ticket_events(&a.actor, &n)).await?))
}

/// A workflow step (see `ActionBody` for the fields of each action). A step
/// the ticket's state does not allow answers 409, one the user's roles or
/// unit do not allow 403, with the reason.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/actions/{action}", tag = "tickets",
    params(("number" = String, Path), ("action" = String, Path, description = "dispatch, sign-for, return, hand-down, progress, request-extension, decide-extension, reply, approve-reply, review, callback, reopen, close, merge, void, acknowledge-alarm (team lead: the center knows about an emergency not yet signed for)")),
    request_body = ActionBody,
    responses((status = 200, body = TicketView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn action(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((n, action)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<Json<TicketView>> {
    Ok(Json(
        app.run(move |s| s.act_named(&a.actor, &n, &action, b))
            .await?,
    ))
}

/// Uploads one file (multipart field `file`); link it to a ticket by its
/// `sha256` in `attachments`.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "tickets",
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = Uploaded), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    mut mp: Multipart,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("file").to_string();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            let up = app
                .run(move |s| s.store_attachment(&a.actor, &name, &bytes))
                .await?;
            return Ok((StatusCode::CREATED, Json(up)));
        }
    }
    Err(Error::field(
        "file",
        "缺少文件字段 file (multipart field `file` is missing)",
    )
    .into())
}

pub fn multipart_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge("上传内容过大 (upload too large)".into())
    } else {
        Error::BadRequest(format!("上传格式有误 (bad upload): {}", e.body_text()))
    }
}

/// Downloads an attachment of a ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{number}/attachments/{sha256}", tag = "tickets",
    params(("number" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
pub async fn download(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((n, sha)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let (path, meta) = app
        .run(move |s| s.open_ticket_attachment(&a.actor, &n, &sha))
        .await?;
    file_response(&path, &meta.name, &meta.content_type)
        .await
        .map_err(Into::into)
}

pub async fn file_response(
    path: &std::path::Path,
    name: &str,
    ct: &str,
) -> Result<Response, Error> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| Error::internal(format!("cannot read {}: {e}", path.display())))?;
    let mut r = Body::from(bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let inline = ct.starts_with("image/") || ct == "application/pdf" || ct.starts_with("audio/");
    let disp = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        crate::http::pages::urlencode(name)
    );
    if let Ok(v) = HeaderValue::from_str(&disp) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `sign_for` (default), `in_progress`, `approval`, `due_today`, `overdue`, `returned`.
    pub tab: Option<String>,
}

/// A department user's inbox: counts per tab and the tickets of one tab.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "tickets", params(InboxQuery),
    responses((status = 200, body = crate::service::workflow::Inbox), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn inbox(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<crate::service::workflow::Inbox>> {
    let tab = q.tab.unwrap_or_else(|| "sign_for".into());
    Ok(Json(app.run(move |s| s.inbox(&a.actor, &tab)).await?))
}

/// The center's queues and their counts.
#[utoipa::path(get, path = "/api/v1/queues", tag = "tickets",
    responses((status = 200, body = crate::service::workflow::Queues), (status = 403, body = Problem)))]
pub async fn queues(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<crate::service::workflow::Queues>> {
    Ok(Json(app.run(move |s| s.queues(&a.actor)).await?))
}
