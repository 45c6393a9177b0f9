//! The official AWS SDK for Rust, set up for redwhisk: rustls with ring, the standard credential
//! chain (or dummy credentials for the local emulator), the endpoint from the profile or the
//! environment, and one Invoke turned into what redwhisk records.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_lambda::config::{Credentials, Region};
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use aws_smithy_http_client::tls;
use aws_types::sdk_config::SdkConfig;

use super::error::LambdaError;

/// The HTTP client every SDK client here uses (rustls on ring: no aws-lc C build).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The endpoint to use: the profile's, else `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`
/// (as the AWS tools read them); `None`: AWS's own for the region.
pub fn endpoint_from(
    profile: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    profile
        .map(str::to_string)
        .or_else(|| env("AWS_ENDPOINT_URL_LAMBDA"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .filter(|e| !e.is_empty())
}

/// The shared configuration for the real Lambda API: region from the profile, credentials from
/// the standard chain (env, `AWS_PROFILE` + `~/.aws`, SSO, web identity, ECS, EC2 role). For
/// an `endpoint` on loopback (a local control plane such as moto) the EC2 role step is left
/// out, so nothing asks the metadata address 169.254.169.254, as for S3 snapshots.
pub async fn load_aws(region: &str, endpoint: Option<&str>) -> SdkConfig {
    let region = Region::new(region.to_string());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .http_client(http_client());
    if endpoint.is_some_and(crate::snapshots::credentials::is_loopback) {
        let conf = aws_config::provider_config::ProviderConfig::without_region()
            .with_http_client(http_client())
            .with_region(Some(region));
        loader =
            loader.credentials_provider(crate::snapshots::credentials::chain_without_imds(&conf));
    }
    loader.load().await
}

/// A Lambda client. `retries`: the SDK's own retries (the control plane); invocations use none,
/// so a 429 is seen, counted as throttled and backed off by redwhisk.
pub fn lambda_client(
    shared: &SdkConfig,
    endpoint: Option<&str>,
    retries: bool,
    attempt_timeout: Option<Duration>,
) -> aws_sdk_lambda::Client {
    let mut b = aws_sdk_lambda::config::Builder::from(shared);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    if !retries {
        b = b.retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled());
    }
    let mut t = aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10));
    if let Some(d) = attempt_timeout {
        t = t.operation_attempt_timeout(d);
        if retries {
            // Retried attempts of one request stay within two attempts' time in all.
            t = t.operation_timeout(d * 2);
        }
    }
    b = b.timeout_config(t.build());
    aws_sdk_lambda::Client::from_conf(b.build())
}

/// The configuration for the local emulator: a dummy region and dummy credentials (the
/// emulator checks neither; nothing here leaves the host).
pub fn emulator_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::SharedCredentialsProvider::new(
            Credentials::new(
                "redwhisk",
                "redwhisk-local-emulator",
                None,
                None,
                "emulator",
            ),
        ))
        .http_client(http_client())
        .build()
}

/// What one Invoke gave back.
#[derive(Debug)]
pub enum Answer {
    Ok {
        payload: Vec<u8>,
        /// `X-Amz-Function-Error`: `Handled` or `Unhandled`.
        function_error: Option<String>,
        /// The decoded `X-Amz-Log-Result` (the last 4 KB of the log), when sent.
        log_tail: Option<String>,
        /// Request sent to answer received.
        latency: Duration,
        request_id: Option<String>,
    },
    /// 429 TooManyRequestsException (or Lambda's other throttling codes).
    Throttled,
}

/// One `Invoke` with `RequestResponse` and `LogType=Tail`.
pub async fn invoke_once(
    client: &aws_sdk_lambda::Client,
    function: &str,
    endpoint: &str,
    payload: &[u8],
) -> Result<Answer, LambdaError> {
    let sent = Instant::now();
    let r = client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::RequestResponse)
        .log_type(LogType::Tail)
        .payload(Blob::new(payload.to_vec()))
        .send()
        .await;
    let latency = sent.elapsed();
    match r {
        Ok(out) => {
            use aws_types::request_id::RequestId as _;
            let log_tail = out.log_result().and_then(|b64| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            });
            Ok(Answer::Ok {
                payload: out
                    .payload()
                    .map(|b| b.as_ref().to_vec())
                    .unwrap_or_default(),
                function_error: out.function_error().map(str::to_string),
                log_tail,
                latency,
                request_id: out.request_id().map(str::to_string),
            })
        }
        Err(e) => {
            if is_throttle(&e) {
                return Ok(Answer::Throttled);
            }
            Err(LambdaError::Invoke {
                function: function.to_string(),
                endpoint: endpoint.to_string(),
                detail: describe(&e),
            })
        }
    }
}

fn is_throttle(e: &SdkError<InvokeError>) -> bool {
    if let Some(InvokeError::TooManyRequestsException(_)) = e.as_service_error() {
        return true;
    }
    matches!(
        e.code(),
        Some("TooManyRequestsException" | "ThrottlingException" | "Throttling")
    ) || e.raw_response().is_some_and(|r| r.status().as_u16() == 429)
}

/// A one-line description of an SDK error with its cause (the SDK's `Display` is terse).
pub fn describe<E: std::error::Error + ProvideErrorMetadata + 'static>(e: &SdkError<E>) -> String {
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            let status = s.raw().status().as_u16();
            format!(
                "HTTP {status} {}: {}",
                err.code().unwrap_or("error"),
                err.message().unwrap_or("(no message)")
            )
        }
        SdkError::TimeoutError(_) => "no answer before the deadline (timeout)".to_string(),
        other => {
            let mut text = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                text.push_str(": ");
                text.push_str(&s.to_string());
                src = s.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_order_is_profile_then_lambda_env_then_general_env() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL_LAMBDA" => Some("http://lambda".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://all".to_string()),
            _ => None,
        };
        assert_eq!(
            endpoint_from(Some("http://p"), env).as_deref(),
            Some("http://p")
        );
        assert_eq!(endpoint_from(None, env).as_deref(), Some("http://lambda"));
        let only_general = |k: &str| (k == "AWS_ENDPOINT_URL").then(|| "http://all".to_string());
        assert_eq!(
            endpoint_from(None, only_general).as_deref(),
            Some("http://all")
        );
        assert_eq!(endpoint_from(None, |_| None), None);
    }
}
