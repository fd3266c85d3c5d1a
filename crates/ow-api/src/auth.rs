//! AWS Signature Version 4 verification against configured access keys.
//!
//! The signing algorithm itself is `aws-sigv4`'s (the crate the AWS SDK for Rust signs
//! with): we rebuild the canonical request from exactly the headers the client lists in
//! `SignedHeaders`, sign it with the configured secret at the client's `X-Amz-Date`, region
//! and service, and compare signatures in constant time. Source: AWS General Reference,
//! "Signature Version 4 signing process"; the error names are those AWS's JSON front end
//! answers ([I], spec/api.md §A.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SigningParams, SigningSettings,
};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The default account id of a key that names none, as in the store contract.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// How far a request's `X-Amz-Date` may be from the server clock (AWS: 15 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// One access key a client may sign with.
///
/// In the credentials file (JSON, see [`KeyStore::from_json`]) the members are
/// `accessKeyId`, `secretAccessKey` and optional `accountId` (12 digits, default
/// `000000000000`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessKey {
    /// The access key id (`AKIA…` style; any non-empty string without `/`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The account id requests signed with this key act as: it is the account in log group
    /// ARNs and in `@log` (`account:group`).
    #[serde(default = "default_account")]
    pub account_id: String,
}

fn default_account() -> String {
    DEFAULT_ACCOUNT_ID.to_string()
}

/// The caller a verified request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// Its account id (12 digits).
    pub account_id: String,
    /// The region from the signature's credential scope.
    pub region: String,
}

/// The set of access keys the server accepts.
#[derive(Debug, Clone, Default)]
pub struct KeyStore {
    keys: Vec<AccessKey>,
    /// The region signatures must be scoped to (`None`: any; see [`KeyStore::with_region`]).
    region: Option<String>,
}

/// The credentials file: `{"accessKeys": [{"accessKeyId": "…", "secretAccessKey": "…",
/// "accountId": "123456789012"}]}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialsFile {
    /// The keys.
    pub access_keys: Vec<AccessKey>,
}

impl KeyStore {
    /// A key store holding `keys`.
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] if a key has an empty id or secret, an id with `/`, an
    /// account id that is not 12 digits, or an id given twice.
    pub fn new(keys: Vec<AccessKey>) -> Result<Self, ApiError> {
        for (i, k) in keys.iter().enumerate() {
            if k.access_key_id.is_empty() || k.access_key_id.contains('/') {
                return Err(ApiError::InvalidParameter(format!(
                    "access key {i}: the access key id must be non-empty and contain no '/'"
                )));
            }
            if k.secret_access_key.is_empty() {
                return Err(ApiError::InvalidParameter(format!(
                    "access key {}: the secret access key is empty",
                    k.access_key_id
                )));
            }
            if k.account_id.len() != 12 || !k.account_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::InvalidParameter(format!(
                    "access key {}: account id {:?} is not 12 digits",
                    k.access_key_id, k.account_id
                )));
            }
            if keys[..i].iter().any(|o| o.access_key_id == k.access_key_id) {
                return Err(ApiError::InvalidParameter(format!(
                    "access key {} is listed twice",
                    k.access_key_id
                )));
            }
        }
        Ok(KeyStore { keys, region: None })
    }

    /// This key store, accepting only signatures whose credential scope names `region`
    /// (the server's region, `ApiConfig::region`); others get `InvalidSignatureException`
    /// "Credential should be scoped to a valid region." as AWS answers them.
    pub fn with_region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string());
        self
    }

    /// The region signatures must name, if one is set.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Parses a credentials file ([`CredentialsFile`], JSON).
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] for malformed JSON or an invalid key.
    pub fn from_json(text: &str) -> Result<Self, ApiError> {
        let file: CredentialsFile = serde_json::from_str(text)
            .map_err(|e| ApiError::InvalidParameter(format!("credentials file: {e}")))?;
        KeyStore::new(file.access_keys)
    }

    /// The configured keys.
    pub fn keys(&self) -> &[AccessKey] {
        &self.keys
    }

    fn get(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys.iter().find(|k| k.access_key_id == access_key_id)
    }

    /// Verifies the SigV4 `Authorization` header of a request whose body is `body`, at server
    /// time `now`.
    ///
    /// # Errors
    /// `MissingAuthenticationToken` (no header), `IncompleteSignature` (header not parseable,
    /// `host` or `x-amz-date` not signed), `UnrecognizedClient` (unknown key or a session
    /// token), `InvalidSignature` (wrong service, date outside ±15 min, signature mismatch).
    pub fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Principal, ApiError> {
        self.verify_service(parts, body, now, "logs")
    }

    /// [`KeyStore::verify`] for another signing name (`monitoring` for CloudWatch metrics).
    ///
    /// # Errors
    /// As [`KeyStore::verify`].
    pub fn verify_service(
        &self,
        parts: &Parts,
        body: &[u8],
        now: SystemTime,
        service: &str,
    ) -> Result<Principal, ApiError> {
        let header = match parts.headers.get("authorization") {
            None => return Err(ApiError::MissingAuthenticationToken),
            Some(v) => v.to_str().map_err(|_| {
                ApiError::IncompleteSignature("Authorization header is not ASCII".into())
            })?,
        };
        let auth = parse_authorization(header)?;
        let key = self
            .get(auth.access_key_id)
            .ok_or(ApiError::UnrecognizedClient)?;
        if parts.headers.contains_key("x-amz-security-token") {
            // Temporary credentials are not issued by this server.
            return Err(ApiError::UnrecognizedClient);
        }
        if let Some(region) = &self.region {
            if auth.region != region {
                // AWS's answer to a signature scoped to another region than the endpoint's.
                tracing::debug!(got = auth.region, expected = %region, "signature for another region");
                return Err(ApiError::InvalidSignature(
                    "Credential should be scoped to a valid region.".to_string(),
                ));
            }
        }
        if auth.service != service {
            return Err(ApiError::InvalidSignature(format!(
                "Credential should be scoped to correct service: '{service}'. (got '{}')",
                auth.service
            )));
        }
        for required in ["host", "x-amz-date"] {
            if !auth.signed_headers.contains(&required) {
                return Err(ApiError::IncompleteSignature(format!(
                    "Signed headers must include '{required}'"
                )));
            }
        }
        let amz_date = parts
            .headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::IncompleteSignature("X-Amz-Date header missing".into()))?;
        let request_time = parse_amz_date(amz_date).ok_or_else(|| {
            ApiError::IncompleteSignature(format!(
                "X-Amz-Date {amz_date:?} is not YYYYMMDDTHHMMSSZ"
            ))
        })?;
        if !amz_date.starts_with(auth.date) {
            return Err(ApiError::InvalidSignature(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
                auth.date,
                &amz_date[..amz_date.len().min(8)]
            )));
        }
        let skew = match now.duration_since(request_time) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        if skew > MAX_CLOCK_SKEW {
            return Err(ApiError::InvalidSignature(format!(
                "Signature expired: {amz_date} is outside the 15 minute window around the server time"
            )));
        }

        // Exactly the signed headers, every value of each, in request order.
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(auth.signed_headers.len());
        for name in &auth.signed_headers {
            let mut found = false;
            for value in parts.headers.get_all(*name) {
                let value = value.to_str().map_err(|_| {
                    ApiError::InvalidSignature(format!("signed header {name} is not ASCII"))
                })?;
                headers.push((name, value));
                found = true;
            }
            if !found {
                return Err(ApiError::InvalidSignature(format!(
                    "signed header {name} is not in the request"
                )));
            }
        }
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        // The authority is never used: `host` is among the signed headers.
        let uri = format!("http://signing.invalid{path_and_query}");
        let signable = SignableRequest::new(
            parts.method.as_str(),
            uri,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| ApiError::InvalidSignature(format!("cannot canonicalise request: {e}")))?;

        let identity = aws_credential_types::Credentials::new(
            &key.access_key_id,
            &key.secret_access_key,
            None,
            None,
            "openwatch-config",
        )
        .into();
        let mut settings = SigningSettings::default();
        // Only the client's signed headers are passed in; exclude none of them.
        settings.excluded_headers = Some(Vec::new());
        let params: SigningParams<'_> = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(auth.region)
            .name(auth.service)
            .time(request_time)
            .settings(settings)
            .build()
            .map_err(|e| ApiError::Internal(format!("sigv4 params: {e}")))?
            .into();
        let output = sign(signable, &params)
            .map_err(|e| ApiError::InvalidSignature(format!("cannot canonicalise request: {e}")))?;
        if !constant_time_eq(output.signature().as_bytes(), auth.signature.as_bytes()) {
            return Err(ApiError::InvalidSignature(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details."
                    .into(),
            ));
        }
        Ok(Principal {
            access_key_id: key.access_key_id.clone(),
            account_id: key.account_id.clone(),
            region: auth.region.to_string(),
        })
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, ApiError> {
    let incomplete = |what: &str| {
        ApiError::IncompleteSignature(format!(
            "Authorization header requires '{what}' parameter. Authorization={header}"
        ))
    };
    let rest = header
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or_else(|| {
            ApiError::IncompleteSignature(format!(
                "Authorization header must use AWS4-HMAC-SHA256. Authorization={header}"
            ))
        })?
        .trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential"))?;
    let signed = signed.ok_or_else(|| incomplete("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| incomplete("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(ApiError::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if terminator != "aws4_request" || access_key_id.is_empty() || date.len() != 8 {
        return Err(ApiError::IncompleteSignature(format!(
            "Credential scope '{credential}' is not keyid/YYYYMMDD/region/service/aws4_request"
        )));
    }
    let signed_headers: Vec<&str> = signed.split(';').collect();
    if signed_headers
        .iter()
        .any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err(ApiError::IncompleteSignature(format!(
            "SignedHeaders '{signed}' must be lower-case names separated by ';'"
        )));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// `YYYYMMDDTHHMMSSZ` to a time; `None` if malformed.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let t = chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ").ok()?;
    let secs = u64::try_from(t.and_utc().timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A freshly generated key pair for a local demo: a 20-character id starting `OWAK` and a
/// 40-character secret, from the OS random source (via UUID v4).
pub fn generate_key(account_id: &str) -> AccessKey {
    const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let random: Vec<u8> = (0..4)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    let id: String = "OWAK"
        .chars()
        .chain(
            random[..16]
                .iter()
                .map(|b| ID_CHARS[usize::from(b % 32)] as char),
        )
        .collect();
    let secret: String = random[16..56]
        .iter()
        .map(|b| SECRET_CHARS[usize::from(b % 64)] as char)
        .collect();
    AccessKey {
        access_key_id: id,
        secret_access_key: secret,
        account_id: account_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_authorization_header() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc";
        let a = parse_authorization(h).unwrap();
        assert_eq!(a.access_key_id, "AKID");
        assert_eq!(a.date, "20240102");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "logs");
        assert_eq!(a.signed_headers, vec!["content-type", "host", "x-amz-date"]);
        assert_eq!(a.signature, "abc");
    }

    #[test]
    fn rejects_incomplete_headers() {
        for h in [
            "",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/logs/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/2024/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=a",
            "AWS4-HMAC-SHA256 Credential=AKID/20240102/logs/aws4_request, SignedHeaders=host, Signature=a",
            "Basic dXNlcjpwYXNz",
        ] {
            assert!(
                matches!(parse_authorization(h), Err(ApiError::IncompleteSignature(_))),
                "{h}"
            );
        }
    }

    #[test]
    fn generated_keys_are_distinct_and_well_formed() {
        let a = generate_key(DEFAULT_ACCOUNT_ID);
        let b = generate_key(DEFAULT_ACCOUNT_ID);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_eq!(a.access_key_id.len(), 20);
        assert_eq!(a.secret_access_key.len(), 40);
        assert!(KeyStore::new(vec![a, b]).is_ok());
    }

    #[test]
    fn key_store_validates() {
        let k = |id: &str, acct: &str| AccessKey {
            access_key_id: id.into(),
            secret_access_key: "s".into(),
            account_id: acct.into(),
        };
        assert!(KeyStore::new(vec![k("A", "123456789012")]).is_ok());
        assert!(KeyStore::new(vec![k("A", "1234")]).is_err());
        assert!(KeyStore::new(vec![k("A/B", "123456789012")]).is_err());
        assert!(KeyStore::new(vec![k("A", "123456789012"), k("A", "123456789012")]).is_err());
        let parsed =
            KeyStore::from_json(r#"{"accessKeys":[{"accessKeyId":"AK","secretAccessKey":"S"}]}"#)
                .unwrap();
        assert_eq!(parsed.keys()[0].account_id, DEFAULT_ACCOUNT_ID);
        assert!(KeyStore::from_json(r#"{"accessKeys":[{"accessKeyId":"AK"}]}"#).is_err());
    }
}
