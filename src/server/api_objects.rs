//! REST for the `tilt.dev/v1alpha1` objects stilt serves, as Tilt's apiserver answers them:
//! `GET /apis/tilt.dev/v1alpha1/<plural>` (a list), `/<plural>/<name>` (one object, or a 404
//! `Status`), `/<plural>/<name>/status`. With `Accept: …;as=Table` (what `tilt get` sends for its
//! table output) the answer is the apiserver's default `NAME`/`CREATED AT` table.

use super::api_discovery::{not_found, status_failure, table};
use super::status_server::ServerState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stilt_core::session::sort_keys;
use stilt_core::ui_resource::ui_resources;
use stilt_core::webview::ui_session;

/// JSON with kubectl's content type.
pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut body = serde_json::to_string_pretty(v).expect("json");
    body.push('\n');
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("as=Table"))
}

/// The objects of `plural` right now.
fn objects(st: &ServerState, plural: &str) -> Option<Vec<Value>> {
    let session = st.sessions.borrow().clone();
    match plural {
        "sessions" => Some(vec![session.to_api_json()]),
        "uiresources" => Some(ui_resources(&session, &st.live.resources(), &st.live.pods())),
        "uisessions" => Some(vec![ui_session(&session, &st.version)]),
        _ => None,
    }
}

fn list_kind(plural: &str) -> &'static str {
    match plural {
        "sessions" => "SessionList",
        "uiresources" => "UIResourceList",
        _ => "UISessionList",
    }
}

fn unknown(plural: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &status_failure(404, "NotFound", &format!("the server could not find the requested resource ({plural})"), None),
    )
}

/// `GET /apis/tilt.dev/v1alpha1/<plural>`.
pub async fn list(State(st): State<ServerState>, Path(plural): Path<String>, headers: HeaderMap) -> Response {
    let Some(items) = objects(&st, &plural) else { return unknown(&plural) };
    if wants_table(&headers) {
        return json_response(StatusCode::OK, &table(&items));
    }
    let rv = st.sessions.borrow().metadata.resource_version.clone();
    json_response(
        StatusCode::OK,
        &sort_keys(json!({
            "apiVersion": "tilt.dev/v1alpha1",
            "kind": list_kind(&plural),
            "metadata": {"resourceVersion": rv},
            "items": items,
        })),
    )
}

/// `GET /apis/tilt.dev/v1alpha1/<plural>/<name>` (and `/status`).
pub async fn get_one(
    State(st): State<ServerState>,
    Path((plural, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(items) = objects(&st, &plural) else { return unknown(&plural) };
    match items.into_iter().find(|o| o["metadata"]["name"].as_str() == Some(name.as_str())) {
        Some(obj) if wants_table(&headers) => json_response(StatusCode::OK, &table(&[obj])),
        Some(obj) => json_response(StatusCode::OK, &obj),
        None => json_response(StatusCode::NOT_FOUND, &not_found(&plural, &name)),
    }
}

/// `GET /apis/tilt.dev/v1alpha1/<plural>/<name>/status`.
pub async fn get_status(
    st: State<ServerState>,
    Path((plural, name, sub)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if sub != "status" {
        return unknown(&format!("{plural}/{sub}"));
    }
    get_one(st, Path((plural, name)), headers).await
}
