//! Client-side SigV4 signing of a request, as an AWS SDK does it (with `aws-sigv4`).
//!
//! For tests, benchmarks and tools that talk to the server without an AWS SDK. The request
//! must carry a `host` header; `x-amz-date` and `authorization` are added.

use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use axum::http::Request;

use crate::auth::AccessKey;

/// Signs `request` (whose body is `body`) for service `logs` in `region` at `time`, adding
/// `x-amz-date` and `authorization` headers.
///
/// # Errors
/// A description of what could not be signed (a non-ASCII header value, no `host`).
pub fn sign_request<B>(
    request: &mut Request<B>,
    body: &[u8],
    key: &AccessKey,
    region: &str,
    time: SystemTime,
) -> Result<(), String> {
    sign_request_for(request, body, key, region, "logs", time)
}

/// [`sign_request`] for another signing name (`service`), e.g. `monitoring` for the
/// CloudWatch metrics API.
///
/// # Errors
/// As [`sign_request`].
pub fn sign_request_for<B>(
    request: &mut Request<B>,
    body: &[u8],
    key: &AccessKey,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), String> {
    if !request.headers().contains_key("host") {
        return Err("the request has no host header".to_string());
    }
    let identity = aws_credential_types::Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        None,
        None,
        "openwatch-client",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let uri = format!(
        "http://signing.invalid{}",
        request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut headers = Vec::new();
    for (name, value) in request.headers() {
        headers.push((
            name.as_str(),
            value
                .to_str()
                .map_err(|_| format!("header {name} is not ASCII"))?,
        ));
    }
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}
