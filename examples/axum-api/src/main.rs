//! axum-api: drydock's example Rust service, with the same endpoints and behaviour as gin-api.
//!
//! GET /healthz (liveness), GET /readyz (READY_ADDR reachable), GET/POST /api/v1/items,
//! GET /api/v1/whoami, GET /static/*, POST /admin/fail-health when ADMIN_ENABLED=true.
//! Environment: PORT, API_TOKEN or API_TOKEN_FILE (required), READY_ADDR, STATIC_DIR,
//! TRUSTED_PROXIES, SHUTDOWN_TIMEOUT (seconds).

use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Serialize)]
struct Item {
    id: usize,
    name: String,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

struct AppState {
    token: String,
    items: Mutex<Vec<Item>>,
    healthy: AtomicBool,
    ready_addr: Option<String>,
    static_dir: PathBuf,
    trusted: Vec<(IpAddr, u8)>,
}

type Shared = Arc<AppState>;

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn read_secret() -> Result<String, String> {
    if let Some(v) = env("API_TOKEN") {
        return Ok(v);
    }
    if let Some(path) = env("API_TOKEN_FILE") {
        let v = std::fs::read_to_string(&path).map_err(|e| format!("API_TOKEN_FILE={path}: {e}"))?;
        let v = v.trim().to_string();
        return if v.is_empty() { Err(format!("API_TOKEN_FILE={path} is empty")) } else { Ok(v) };
    }
    Err("API_TOKEN is not set: pass it in the environment (or API_TOKEN_FILE), e.g. from a Kubernetes Secret or a Compose secret".into())
}

fn parse_cidr(s: &str) -> Result<(IpAddr, u8), String> {
    let (ip, bits) = s.split_once('/').unwrap_or((s, ""));
    let ip: IpAddr = ip.trim().parse().map_err(|_| format!("bad address in TRUSTED_PROXIES: {s:?}"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = if bits.is_empty() { max } else { bits.parse().map_err(|_| format!("bad prefix in TRUSTED_PROXIES: {s:?}"))? };
    if bits > max {
        return Err(format!("bad prefix in TRUSTED_PROXIES: {s:?}"));
    }
    Ok((ip, bits))
}

fn in_cidr(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The client address: walk X-Forwarded-For from the right while the hop is a trusted proxy,
/// as Gin does.
fn client_ip(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let mut ip = peer.ip();
    if !state.trusted.iter().any(|c| in_cidr(ip, *c)) {
        return ip;
    }
    if let Some(xff) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        for hop in xff.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(h) => {
                    ip = h;
                    if !state.trusted.iter().any(|c| in_cidr(h, *c)) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    ip
}

async fn healthz(State(s): State<Shared>) -> Response {
    if s.healthy.load(Ordering::SeqCst) {
        (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "failing"}))).into_response()
    }
}

async fn readyz(State(s): State<Shared>) -> Response {
    let Some(addr) = s.ready_addr.clone() else {
        return (StatusCode::OK, Json(json!({"status": "ready"}))).into_response();
    };
    match tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({"status": "ready", "dependency": addr}))).into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "not ready", "dependency": addr, "error": e.to_string()}))).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "not ready", "dependency": addr, "error": "timeout"}))).into_response(),
    }
}

async fn list_items(State(s): State<Shared>) -> Json<Vec<Item>> {
    Json(s.items.lock().map(|v| v.clone()).unwrap_or_default())
}

async fn add_item(State(s): State<Shared>, headers: HeaderMap, body: Result<Json<NewItem>, axum::extract::rejection::JsonRejection>) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {}", s.token) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "missing or wrong bearer token"}))).into_response();
    }
    let Json(new) = match body {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({"error": e.body_text()}))).into_response(),
    };
    let Ok(mut items) = s.items.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let item = Item { id: items.len() + 1, name: new.name };
    items.push(item.clone());
    (StatusCode::CREATED, Json(item)).into_response()
}

async fn whoami(State(s): State<Shared>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> Json<serde_json::Value> {
    Json(json!({"client_ip": client_ip(&s, peer, &headers).to_string(), "remote_addr": peer.to_string()}))
}

async fn static_file(State(s): State<Shared>, UrlPath(rel): UrlPath<String>) -> Response {
    let rel = Path::new(&rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(s.static_dir.join(rel)).await {
        Ok(bytes) => {
            let ctype = match rel.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            ([(header::CONTENT_TYPE, ctype)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn fail_health(State(s): State<Shared>) -> Json<serde_json::Value> {
    s.healthy.store(false, Ordering::SeqCst);
    Json(json!({"healthz": "failing"}))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        eprintln!("axum-api: cannot install signal handlers");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => eprintln!("axum-api: received SIGTERM, shutting down"),
        _ = int.recv() => eprintln!("axum-api: received SIGINT, shutting down"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let token = match read_secret() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("axum-api: fatal: {e}");
            return ExitCode::from(2);
        }
    };
    let trusted = env("TRUSTED_PROXIES").unwrap_or_else(|| "127.0.0.1/32,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16".into());
    let trusted = match trusted.split(',').map(parse_cidr).collect::<Result<Vec<_>, _>>() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("axum-api: fatal: {e}");
            return ExitCode::from(2);
        }
    };
    let shutdown_timeout = env("SHUTDOWN_TIMEOUT").and_then(|v| v.trim_end_matches('s').parse().ok()).unwrap_or(10u64);
    let state = Arc::new(AppState {
        token,
        items: Mutex::new(Vec::new()),
        healthy: AtomicBool::new(true),
        ready_addr: env("READY_ADDR"),
        static_dir: env("STATIC_DIR").unwrap_or_else(|| "static".into()).into(),
        trusted,
    });
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/items", get(list_items).post(add_item))
        .route("/api/v1/whoami", get(whoami))
        .route("/static/{*path}", get(static_file));
    if env("ADMIN_ENABLED").as_deref() == Some("true") {
        app = app.route("/admin/fail-health", post(fail_health));
    }
    let app = app.with_state(state);

    let port = env("PORT").unwrap_or_else(|| "8080".into());
    let listener = match tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("axum-api: fatal: listen on :{port}: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!("axum-api: listening on :{port}");
    let (sig_tx, sig_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = sig_tx.send(());
    });
    let mut serve = tokio::spawn(async move { server.await });
    // After the signal, the drain is bounded, as http.Server.Shutdown's context is in gin-api.
    let result = tokio::select! {
        r = &mut serve => Ok(r),
        _ = sig_rx => tokio::time::timeout(Duration::from_secs(shutdown_timeout), &mut serve).await,
    };
    match result {
        Ok(Ok(Ok(()))) => {
            eprintln!("axum-api: shut down cleanly");
            ExitCode::SUCCESS
        }
        Ok(Ok(Err(e))) => {
            eprintln!("axum-api: serve: {e}");
            ExitCode::from(1)
        }
        Ok(Err(e)) => {
            eprintln!("axum-api: server task failed: {e}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("axum-api: shutdown timed out after {shutdown_timeout} s");
            ExitCode::from(1)
        }
    }
}
