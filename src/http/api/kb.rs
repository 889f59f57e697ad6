//! The knowledge base: browsing, articles, versions and diffs, proposals
//! and their review, notices, acknowledgements, uses, reports, synonyms,
//! and the search seam (`GET /api/v1/kb/search`, 503 until the search
//! engine is plugged in).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, in_range};
use crate::http::problem::{ApiResult, Problem};
use crate::service::kb::{
    AckStatus, ActionBody, ActionOutcome, ArticleInput, ArticlePage, ArticleQuery, ArticleStats,
    ArticleView, CategoryNode, DiffView, ExpiredList, KbSearchQuery, KbSearchResults,
    MissingReport, MonthSummary, NoticeView, ProposalList, ProposalView, Synonyms, VersionView,
};

/// An optional JSON body: empty means the defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(b: &[u8]) -> ApiResult<T> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(b).map_err(|e| {
        crate::http::problem::ApiError(crate::error::Error::BadRequest(format!(
            "JSON 格式错误 (invalid JSON): {e}"
        )))
    })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_articles, create_article))
        .routes(routes!(get_article, propose_change))
        .routes(routes!(versions))
        .routes(routes!(version))
        .routes(routes!(diff))
        .routes(routes!(article_action))
        .routes(routes!(article_acks))
        .routes(routes!(article_stats))
        .routes(routes!(categories))
        .routes(routes!(list_proposals))
        .routes(routes!(get_proposal, update_proposal))
        .routes(routes!(proposal_action))
        .routes(routes!(unread))
        .routes(routes!(read_all))
        .routes(routes!(acks))
        .routes(routes!(expired))
        .routes(routes!(missing))
        .routes(routes!(summary))
        .routes(routes!(get_synonyms, put_synonyms))
        .routes(routes!(search))
}

/// Browses the knowledge base: by category path then id, with filters;
/// paged by `cursor`. Non-editors see only published articles valid today.
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "kb", params(ArticleQuery),
    responses((status = 200, body = ArticlePage), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list_articles(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<ArticleQuery>,
) -> ApiResult<Json<ArticlePage>> {
    in_range("limit", q.limit, 1, 200)?;
    Ok(Json(app.run(move |s| s.kb_list(&a.actor, &q)).await?))
}

/// Proposes a new article (queued for review). Editors (team lead, admin)
/// may pass `"publish": true` to publish at once. Department users propose
/// only for their own unit (`department_id`).
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "kb", request_body = ArticleInput,
    responses((status = 201, body = ProposalView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_article(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<(StatusCode, Json<ProposalView>)> {
    let p = app.run(move |s| s.kb_propose_new(&a.actor, b)).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// The search this article was opened from (missing-knowledge report).
    pub search_id: Option<u64>,
}

/// Reads an article (counts a view and marks the reader's notices of it
/// read).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = u64, Path), ReadParams),
    responses((status = 200, body = ArticleView), (status = 404, body = Problem)))]
pub async fn get_article(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(p): ApiQuery<ReadParams>,
) -> ApiResult<Json<ArticleView>> {
    Ok(Json(
        app.run(move |s| s.kb_read(&a.actor, id, p.search_id))
            .await?,
    ))
}

/// Proposes a correction: absent fields keep the current content; a `note`
/// alone says what is wrong ("这个答复已经过时"), with an optional `ticket`.
/// Editors may pass `"publish": true`.
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = u64, Path)), request_body = ArticleInput,
    responses((status = 201, body = ProposalView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn propose_change(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<(StatusCode, Json<ProposalView>)> {
    let p = app
        .run(move |s| s.kb_propose_change(&a.actor, id, b))
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// Every published version, newest first.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "kb", params(("id" = u64, Path)),
    responses((status = 200, body = Vec<VersionView>), (status = 404, body = Problem)))]
pub async fn versions(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<Vec<VersionView>>> {
    Ok(Json(app.run(move |s| s.kb_versions(&a.actor, id)).await?))
}

/// One version.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions/{version}", tag = "kb",
    params(("id" = u64, Path), ("version" = u32, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = Problem)))]
pub async fn version(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((id, v)): ApiPath<(u64, u32)>,
) -> ApiResult<Json<VersionView>> {
    Ok(Json(app.run(move |s| s.kb_version(&a.actor, id, v)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// Default: the version before `to`.
    pub from: Option<u32>,
    /// Default: the current version.
    pub to: Option<u32>,
}

/// A readable diff between two versions (character-level for texts).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/diff", tag = "kb", params(("id" = u64, Path), DiffParams),
    responses((status = 200, body = DiffView), (status = 404, body = Problem)))]
pub async fn diff(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(p): ApiQuery<DiffParams>,
) -> ApiResult<Json<DiffView>> {
    Ok(Json(
        app.run(move |s| s.kb_diff(&a.actor, id, p.from, p.to))
            .await?,
    ))
}

/// `acknowledge` (must-read; agents), `use` (`{"ticket": "YYYYMMDD-NNNNNN",
/// "search_id"}`: the answer went into that ticket), `archive` / `restore`
/// (editors).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/actions/{action}", tag = "kb",
    params(("id" = u64, Path), ("action" = String, Path, description = "acknowledge, use, archive, restore")),
    request_body = ActionBody,
    responses((status = 200, body = ActionOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn article_action(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((id, action)): ApiPath<(u64, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ActionOutcome>> {
    let b: ActionBody = optional_json(&body)?;
    Ok(Json(
        app.run(move |s| s.kb_article_action(&a.actor, id, &action, b))
            .await?,
    ))
}

/// Who has and has not acknowledged the current version of a must-read
/// article (team leads, administrators).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/acks", tag = "kb", params(("id" = u64, Path)),
    responses((status = 200, body = AckStatus), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn article_acks(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<AckStatus>> {
    Ok(Json(app.run(move |s| s.kb_ack_status(&a.actor, id)).await?))
}

/// Views and uses of an article, with its last uses.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/stats", tag = "kb", params(("id" = u64, Path)),
    responses((status = 200, body = ArticleStats), (status = 404, body = Problem)))]
pub async fn article_stats(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<ArticleStats>> {
    Ok(Json(
        app.run(move |s| s.kb_article_stats(&a.actor, id)).await?,
    ))
}

/// The category tree with article counts.
#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "kb",
    responses((status = 200, body = Vec<CategoryNode>)))]
pub async fn categories(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Vec<CategoryNode>>> {
    Ok(Json(app.run(move |s| s.kb_tree(&a.actor)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalParams {
    /// `pending` (editors' default), `published`, `rejected`, `withdrawn`
    /// or `all` (others' default).
    pub state: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// The review queue (editors) or one's own proposals (everyone else),
/// newest first.
#[utoipa::path(get, path = "/api/v1/kb/proposals", tag = "kb", params(ProposalParams),
    responses((status = 200, body = ProposalList), (status = 422, body = Problem)))]
pub async fn list_proposals(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(p): ApiQuery<ProposalParams>,
) -> ApiResult<Json<ProposalList>> {
    Ok(Json(
        app.run(move |s| {
            let limit = in_range("limit", p.limit, 1, 200)?;
            s.kb_proposals(&a.actor, p.state.as_deref(), p.cursor.as_deref(), limit)
        })
        .await?,
    ))
}

/// One proposal with what publishing it would change.
#[utoipa::path(get, path = "/api/v1/kb/proposals/{id}", tag = "kb", params(("id" = u64, Path)),
    responses((status = 200, body = ProposalView), (status = 404, body = Problem)))]
pub async fn get_proposal(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<ProposalView>> {
    Ok(Json(app.run(move |s| s.kb_proposal(&a.actor, id)).await?))
}

/// Edits a pending proposal: its author, or an editor (absent fields keep
/// their value; editors may pass `"publish": true`).
#[utoipa::path(put, path = "/api/v1/kb/proposals/{id}", tag = "kb", params(("id" = u64, Path)), request_body = ArticleInput,
    responses((status = 200, body = ProposalView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_proposal(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u64>,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<Json<ProposalView>> {
    Ok(Json(
        app.run(move |s| s.kb_update_proposal(&a.actor, id, b))
            .await?,
    ))
}

/// `publish` (`{"note"}`: the version's note; editors), `reject`
/// (`{"reason"}` required; editors), `withdraw` (the author).
#[utoipa::path(post, path = "/api/v1/kb/proposals/{id}/actions/{action}", tag = "kb",
    params(("id" = u64, Path), ("action" = String, Path, description = "publish, reject, withdraw")),
    request_body = ActionBody,
    responses((status = 200, body = ProposalView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn proposal_action(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((id, action)): ApiPath<(u64, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ProposalView>> {
    let b: ActionBody = optional_json(&body)?;
    Ok(Json(
        app.run(move |s| match action.as_str() {
            "publish" => {
                s.kb_publish(&a.actor, id, b.note)?;
                s.kb_proposal(&a.actor, id)
            }
            "reject" => s.kb_reject(
                &a.actor,
                id,
                b.reason.as_deref().or(b.note.as_deref()).unwrap_or(""),
            ),
            "withdraw" => s.kb_withdraw(&a.actor, id),
            other => Err(crate::error::Error::NotFound(format!(
                "没有这个操作 (no such action): {other}; 可用 publish、reject、withdraw"
            ))),
        })
        .await?,
    ))
}

/// The caller's unread notices of published articles, newest first.
#[utoipa::path(get, path = "/api/v1/kb/unread", tag = "kb",
    responses((status = 200, body = Vec<NoticeView>)))]
pub async fn unread(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Vec<NoticeView>>> {
    Ok(Json(app.run(move |s| s.kb_unread(&a.actor)).await?))
}

#[derive(serde::Serialize, ToSchema)]
pub struct ReadAllOut {
    pub marked: usize,
}

/// Marks every notice read.
#[utoipa::path(post, path = "/api/v1/kb/unread/read-all", tag = "kb",
    responses((status = 200, body = ReadAllOut)))]
pub async fn read_all(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<ReadAllOut>> {
    let marked = app.run(move |s| s.kb_mark_all_read(&a.actor)).await?;
    Ok(Json(ReadAllOut { marked }))
}

/// Every current must-read article with who has not acknowledged it (team
/// leads, administrators).
#[utoipa::path(get, path = "/api/v1/kb/acks", tag = "kb",
    responses((status = 200, body = Vec<AckStatus>), (status = 403, body = Problem)))]
pub async fn acks(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Vec<AckStatus>>> {
    Ok(Json(app.run(move |s| s.kb_ack_overview(&a.actor)).await?))
}

/// Expired, not-yet-valid and archived articles (editors).
#[utoipa::path(get, path = "/api/v1/kb/expired", tag = "kb",
    responses((status = 200, body = ExpiredList), (status = 403, body = Problem)))]
pub async fn expired(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<ExpiredList>> {
    Ok(Json(app.run(move |s| s.kb_expired(&a.actor)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// `YYYY-MM-DD`, default 30 days before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, default today.
    pub to: Option<String>,
}

/// Missing knowledge: searches that found nothing or led to no use,
/// grouped by their normalised words.
#[utoipa::path(get, path = "/api/v1/kb/reports/missing", tag = "kb", params(RangeParams),
    responses((status = 200, body = MissingReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn missing(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> ApiResult<Json<MissingReport>> {
    Ok(Json(
        app.run(move |s| s.kb_missing_report(&a.actor, p.from.as_deref(), p.to.as_deref()))
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    /// `YYYY-MM`, default this month.
    pub month: Option<String>,
}

/// Articles added and changed in a month.
#[utoipa::path(get, path = "/api/v1/kb/reports/summary", tag = "kb", params(MonthParams),
    responses((status = 200, body = MonthSummary), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn summary(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> ApiResult<Json<MonthSummary>> {
    Ok(Json(
        app.run(move |s| s.kb_month_summary(&a.actor, p.month.as_deref()))
            .await?,
    ))
}

/// The administrator-managed synonym groups (editors).
#[utoipa::path(get, path = "/api/v1/kb/synonyms", tag = "kb",
    responses((status = 200, body = Synonyms), (status = 403, body = Problem)))]
pub async fn get_synonyms(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Synonyms>> {
    Ok(Json(app.run(move |s| s.kb_synonyms(&a.actor)).await?))
}

/// Replaces every synonym group (editors).
#[utoipa::path(put, path = "/api/v1/kb/synonyms", tag = "kb", request_body = Synonyms,
    responses((status = 200, body = Synonyms), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_synonyms(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<Synonyms>,
) -> ApiResult<Json<Synonyms>> {
    Ok(Json(
        app.run(move |s| s.kb_set_synonyms(&a.actor, b.groups))
            .await?,
    ))
}

/// Full-text search of the knowledge base (jieba words and bigrams, title
/// boost, synonyms, pinyin, one-character typos), best first, with
/// highlighted snippets. Matches beyond the page are not counted: `total`
/// is exact only when `total_exact` is true, otherwise a lower bound
/// (show "10+"). 503 when the search index is not available.
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "kb", params(KbSearchQuery),
    responses((status = 200, body = KbSearchResults), (status = 503, body = Problem)))]
pub async fn search(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<KbSearchQuery>,
) -> ApiResult<Json<KbSearchResults>> {
    in_range("limit", q.limit, 1, 50)?;
    Ok(Json(
        app.run(move |s| s.search_articles(&a.actor, &q)).await?,
    ))
}
