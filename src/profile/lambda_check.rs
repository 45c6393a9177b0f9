//! Checking `[platform] kind = "lambda"` as written (see [`super::lambda`]).

use std::time::Duration;

use super::error::ProfileError;
use super::lambda::{Emulator, LambdaConfig, LambdaRuntime, Price};
use super::raw::{RawPlatform, RawPrice};

fn invalid(file: &str, field: &str, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// The lambda-only fields set in a profile of another kind (the first one found).
pub(super) fn stray_field(p: &RawPlatform) -> Option<&'static str> {
    [
        ("region", p.region.is_some()),
        ("function_name", p.function_name.is_some()),
        ("runtime", p.runtime.is_some()),
        ("timeout", p.timeout.is_some()),
        ("role_arn", p.role_arn.is_some()),
        ("vpc_subnet_ids", p.vpc_subnet_ids.is_some()),
        ("vpc_security_group_ids", p.vpc_security_group_ids.is_some()),
        ("endpoint", p.endpoint.is_some()),
        ("emulator", p.emulator.is_some()),
        ("price", p.price.is_some()),
    ]
    .into_iter()
    .find(|(_, set)| *set)
    .map(|(f, _)| f)
}

pub(super) fn validate(p: RawPlatform, file: &str) -> Result<LambdaConfig, ProfileError> {
    let openwhisk_only = [
        ("apihost", p.apihost.is_some()),
        ("auth", p.auth.is_some()),
        ("namespace", p.namespace.is_some()),
        ("insecure", p.insecure.is_some()),
        ("action_name", p.action_name.is_some()),
        ("action_kind", p.action_kind.is_some()),
        ("nodejs_kind", p.nodejs_kind.is_some()),
        ("poll_deadline_ms", p.poll_deadline_ms.is_some()),
        ("fetch_logs", p.fetch_logs.is_some()),
    ];
    if let Some((field, _)) = openwhisk_only.iter().find(|(_, set)| *set) {
        return Err(invalid(
            file,
            &format!("platform.{field}"),
            "only applies to kind = \"openwhisk\"; remove it (kind = \"lambda\" uses runtime, function_name, memory_mb, timeout)",
        ));
    }
    if p.keep_warm.is_some() {
        return Err(invalid(
            file,
            "platform.keep_warm",
            "only applies to kind = \"local\" (on Lambda a container stays warm between invocations by itself); remove it",
        ));
    }
    let region = p.region.unwrap_or_else(|| "us-east-1".into());
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(invalid(
            file,
            "platform.region",
            format!("\"{region}\" is not an AWS region; write e.g. \"us-east-1\""),
        ));
    }
    let function_name = p.function_name.unwrap_or_else(|| "redwhisk-bench".into());
    if function_name.is_empty()
        || function_name.len() > 64
        || !function_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            file,
            "platform.function_name",
            format!(
                "\"{function_name}\" is not a Lambda function name; use 1 to 64 letters, digits, '-' and '_'"
            ),
        ));
    }
    let runtime = match p.runtime.as_deref().unwrap_or("provided.al2023") {
        "provided.al2023" => LambdaRuntime::ProvidedAl2023,
        "nodejs20.x" => LambdaRuntime::Nodejs20,
        other => {
            return Err(invalid(
                file,
                "platform.runtime",
                format!("\"{other}\" is not valid; use one of \"provided.al2023\", \"nodejs20.x\""),
            ));
        }
    };
    let memory_mb = p.memory_mb.unwrap_or(1024);
    if !(128..=10_240).contains(&memory_mb) {
        return Err(invalid(
            file,
            "platform.memory_mb",
            format!("{memory_mb} is out of range; Lambda takes 128 to 10240 (MB)"),
        ));
    }
    let timeout = p.timeout.unwrap_or(60);
    if !(1..=900).contains(&timeout) {
        return Err(invalid(
            file,
            "platform.timeout",
            format!("{timeout} is out of range; Lambda takes 1 to 900 (seconds)"),
        ));
    }
    if let Some(arn) = &p.role_arn
        && !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/"))
    {
        return Err(invalid(
            file,
            "platform.role_arn",
            format!(
                "\"{arn}\" is not an IAM role ARN; write e.g. \"arn:aws:iam::123456789012:role/redwhisk-lambda\""
            ),
        ));
    }
    let subnets = p.vpc_subnet_ids.unwrap_or_default();
    if let Some(bad) = subnets.iter().find(|s| !s.starts_with("subnet-")) {
        return Err(invalid(
            file,
            "platform.vpc_subnet_ids",
            format!("\"{bad}\" is not a subnet id; write e.g. \"subnet-0abc1234\""),
        ));
    }
    let groups = p.vpc_security_group_ids.unwrap_or_default();
    if let Some(bad) = groups.iter().find(|s| !s.starts_with("sg-")) {
        return Err(invalid(
            file,
            "platform.vpc_security_group_ids",
            format!("\"{bad}\" is not a security group id; write e.g. \"sg-0abc1234\""),
        ));
    }
    if subnets.is_empty() != groups.is_empty() {
        return Err(invalid(
            file,
            if subnets.is_empty() {
                "platform.vpc_subnet_ids"
            } else {
                "platform.vpc_security_group_ids"
            },
            "a function in a VPC needs both vpc_subnet_ids and vpc_security_group_ids; set both or neither",
        ));
    }
    if let Some(url) = &p.endpoint
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(invalid(
            file,
            "platform.endpoint",
            format!(
                "\"{url}\" is not a URL; write e.g. \"http://127.0.0.1:5000\" or \"https://lambda.us-east-1.amazonaws.com\""
            ),
        ));
    }
    let emulator = match p.emulator.as_deref().unwrap_or("none") {
        "none" => Emulator::None,
        "local" => Emulator::Local,
        other => {
            return Err(invalid(
                file,
                "platform.emulator",
                format!(
                    "\"{other}\" is not valid; use \"local\" (containers on this host) or \"none\" (the Lambda API)"
                ),
            ));
        }
    };
    let price = validate_price(p.price.unwrap_or_default(), file)?;
    Ok(LambdaConfig {
        region,
        function_name,
        runtime,
        memory_mb: memory_mb as u32,
        timeout: Duration::from_secs(timeout as u64),
        role_arn: p.role_arn,
        vpc_subnet_ids: subnets,
        vpc_security_group_ids: groups,
        endpoint: p.endpoint,
        emulator,
        redis_host_for_actions: p.redis_host_for_actions,
        price,
    })
}

fn validate_price(r: RawPrice, file: &str) -> Result<Price, ProfileError> {
    let d = Price::default();
    let check = |field: &str, v: Option<f64>, default: f64| match v {
        None => Ok(default),
        Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Some(x) => Err(invalid(
            file,
            &format!("platform.price.{field}"),
            format!("{x} is not a price; write US dollars, 0 or more, e.g. {default}"),
        )),
    };
    Ok(Price {
        gb_second_usd: check("gb_second_usd", r.gb_second_usd, d.gb_second_usd)?,
        requests_per_million_usd: check(
            "requests_per_million_usd",
            r.requests_per_million_usd,
            d.requests_per_million_usd,
        )?,
        vm_hour_usd: check("vm_hour_usd", r.vm_hour_usd, d.vm_hour_usd)?,
        redis_hour_usd: check("redis_hour_usd", r.redis_hour_usd, d.redis_hour_usd)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::profile::lambda::DEFAULT_GB_SECOND_USD;

    fn parse(text: &str) -> Result<LambdaConfig, String> {
        let raw: super::super::raw::RawProfile = toml::from_str(text).map_err(|e| e.to_string())?;
        validate(raw.platform.unwrap_or_default(), "p.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_native_runtime_and_aws_prices() {
        let c = parse("[platform]\nkind = \"lambda\"\nemulator = \"local\"\n").unwrap();
        assert_eq!(c.runtime, LambdaRuntime::ProvidedAl2023);
        assert_eq!(c.emulator, Emulator::Local);
        assert_eq!(c.memory_mb, 1024);
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert_eq!(c.price.gb_second_usd, DEFAULT_GB_SECOND_USD);
        assert_eq!(c.price.requests_per_million_usd, 0.20);
    }

    #[test]
    fn bad_settings_name_the_field() {
        for (text, field) in [
            ("runtime = \"python3.12\"", "platform.runtime"),
            ("memory_mb = 64", "platform.memory_mb"),
            ("timeout = 0", "platform.timeout"),
            ("role_arn = \"redwhisk\"", "platform.role_arn"),
            (
                "vpc_subnet_ids = [\"abc\"]\nvpc_security_group_ids = [\"sg-1\"]",
                "platform.vpc_subnet_ids",
            ),
            (
                "vpc_subnet_ids = [\"subnet-1\"]",
                "platform.vpc_security_group_ids",
            ),
            ("endpoint = \"localhost:5000\"", "platform.endpoint"),
            ("emulator = \"sam\"", "platform.emulator"),
            ("keep_warm = true", "platform.keep_warm"),
            ("apihost = \"http://x\"", "platform.apihost"),
            (
                "[platform.price]\ngb_second_usd = -1.0",
                "platform.price.gb_second_usd",
            ),
        ] {
            let e = parse(&format!("[platform]\nkind = \"lambda\"\n{text}\n")).unwrap_err();
            assert!(e.contains(field), "{text}: {e}");
        }
    }
}
