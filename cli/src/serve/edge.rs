//! The HTTP edge: axum receives, the API answers. The body is read only within the API's
//! limit for the route (by `Content-Length`, then counted), the API runs on a blocking
//! thread, and a streamed answer (server-sent events) is forwarded chunk by chunk until
//! the client goes away.

use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use lms_bulk_upload_web::{Api, Body, Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;

pub async fn serve(listener: tokio::net::TcpListener, api: Arc<Api>) -> std::io::Result<()> {
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(api)
        .layer(tower_http::catch_panic::CatchPanicLayer::new());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

async fn handle(
    State(api): State<Arc<Api>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let limit = api.body_limit(&method, &path);
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return convert(api.too_large(limit));
    }
    // One buffer, sized by the declared length: the body is never held twice (collected,
    // then copied), which for an 84 MB file is 84 MB less at the peak.
    let mut bytes = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(limit));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = tokio_stream::StreamExt::next(&mut stream).await {
        let Ok(chunk) = chunk else {
            return (
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )
                .into_response();
        };
        if bytes.len() + chunk.len() > limit {
            return convert(api.too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    let headers = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let request = Request {
        method,
        path,
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body: bytes,
        peer: Some(peer.ip()),
    };
    let api2 = api.clone();
    match tokio::task::spawn_blocking(move || api2.handle(request)).await {
        Ok(response) => convert(response),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

use axum::response::IntoResponse;

fn convert(response: Response) -> axum::response::Response {
    let Response {
        status,
        headers,
        body,
    } = response;
    let body = match body {
        Body::Full(bytes) => AxumBody::from(bytes),
        Body::Stream(chunks) => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
            tokio::task::spawn_blocking(move || {
                for chunk in chunks {
                    // The client went away: stop producing.
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        break;
                    }
                }
            });
            AxumBody::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        }
    };
    let mut out = axum::response::Response::new(body);
    *out.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            out.headers_mut().append(n, v);
        }
    }
    out
}
