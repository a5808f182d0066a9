//! HTTPS plumbing: accept, TLS, HTTP/1.1, then one request → checks → endpoint → JSON answer.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::Recorded;
use crate::api::{self, Reply};
use crate::params::{self, Params};
use crate::state::State;
use crate::verify::{self, SignedRequest, Verified};

const MAX_BODY: usize = 256 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accept connections until `stop` changes.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    tokio::spawn(connection(tcp, acceptor.clone(), Arc::clone(&state)));
                }
                // Out of file descriptors and the like: breathe, then go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

async fn connection(tcp: TcpStream, acceptor: TlsAcceptor, state: Arc<State>) {
    let _ = tcp.set_nodelay(true);
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
        return;
    };
    let service = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handle(&state, req).await) }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// The endpoints: (path, method, signed).
const ROUTES: [(&str, Method, bool); 5] = [
    ("/auth/v2/ping", Method::GET, false),
    ("/auth/v2/check", Method::GET, true),
    ("/auth/v2/preauth", Method::POST, true),
    ("/auth/v2/auth", Method::POST, true),
    ("/auth/v2/auth_status", Method::GET, true),
];

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            let reply = Reply::fail(413, 41301, "Request entity too large", None);
            return finish(state, &method, &path, Vec::new(), None, reply);
        }
    };
    let (signed_params, params) = match parse(&parts.headers, parts.uri.query(), &method, &body) {
        Ok(p) => p,
        Err(detail) => {
            let reply = Reply::fail(400, 40002, "Invalid request parameters", Some(detail));
            return finish(state, &method, &path, Vec::new(), None, reply);
        }
    };
    let verified = check_signature(state, &parts.headers, &method, &path, &signed_params, &body);
    let reply = answer(state, &method, &path, &params, &verified).await;
    finish(state, &method, &path, params, verified.ok(), reply)
}

/// (parameters as signed, every parameter the endpoint sees).
fn parse(
    headers: &HeaderMap,
    query: Option<&str>,
    method: &Method,
    body: &[u8],
) -> Result<(Params, Params), String> {
    let mut signed = params::form(query.unwrap_or(""))?;
    let content_type = header(headers, CONTENT_TYPE.as_str()).unwrap_or("");
    if *method == Method::GET || body.is_empty() {
        let all = signed.clone();
        return Ok((signed, all));
    }
    if content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        let mut all = signed.clone();
        all.extend(params::json(body)?);
        return Ok((signed, all));
    }
    let text = std::str::from_utf8(body).map_err(|_| "the form body is not UTF-8".to_string())?;
    signed.extend(params::form(text)?);
    let all = signed.clone();
    Ok((signed, all))
}

fn check_signature(
    state: &State,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    params: &Params,
    body: &[u8],
) -> Result<Verified, verify::Rejection> {
    let duo_headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-duo-"))
        .map(|(name, v)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let request = SignedRequest {
        method: method.as_str(),
        host: header(headers, "host").unwrap_or(&state.host),
        path,
        params,
        body: if *method == Method::GET { b"" } else { body },
        authorization: header(headers, "authorization"),
        date: header(headers, "x-duo-date").or_else(|| header(headers, "date")),
        duo_headers: &duo_headers,
    };
    verify::verify(
        &request,
        &state.ikey,
        &state.skey,
        state.now(),
        state.max_date_skew,
    )
}

async fn answer(
    state: &State,
    method: &Method,
    path: &str,
    params: &Params,
    verified: &Result<Verified, verify::Rejection>,
) -> Reply {
    if let Some(status) = state.outage() {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Service Unavailable");
        return Reply::fail(status, u32::from(status) * 100, reason, None);
    }
    if state.take_rate_limited() {
        return Reply {
            retry_after: Some(1),
            ..Reply::fail(429, 42901, "Too Many Requests", None)
        };
    }
    let Some((_, want, signed)) = ROUTES.iter().find(|(p, _, _)| *p == path) else {
        return Reply::fail(404, 40401, "Resource not found", None);
    };
    if method != want {
        return Reply::fail(405, 40501, "Method not allowed", None);
    }
    if let (true, Err(rejection)) = (*signed, verified) {
        return Reply::fail(
            401,
            rejection.code(),
            rejection.message(),
            rejection.detail(),
        );
    }
    match path {
        "/auth/v2/ping" | "/auth/v2/check" => api::time(state),
        "/auth/v2/preauth" => api::preauth(state, params),
        "/auth/v2/auth" => api::auth(state, params).await,
        _ => api::auth_status(state, params).await,
    }
}

fn finish(
    state: &State,
    method: &Method,
    path: &str,
    mut params: Params,
    verified: Option<Verified>,
    reply: Reply,
) -> Response<Full<Bytes>> {
    for (k, v) in &mut params {
        if k == "passcode" {
            *v = "<redacted>".into();
        }
    }
    state.record(Recorded {
        method: method.to_string(),
        path: path.to_string(),
        params,
        signature_ok: verified.is_some(),
        sig_version: verified.map(|v| v.sig_version),
        digest: verified.map(|v| v.digest),
        status: reply.status,
    });
    let mut response = Response::new(Full::new(Bytes::from(reply.body.to_string())));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(secs) = reply.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
