//! The `REPORT` line Lambda (and the Runtime Interface Emulator) writes after each invocation:
//! `REPORT RequestId: … [Init Duration: 12.3 ms] Duration: … Billed Duration: … Memory Size: …
//! Max Memory Used: …`, tab-separated. Init Duration is there only on a cold start.

/// One invocation's figures as Lambda reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_mb: u64,
    pub max_memory_mb: u64,
    /// Present only on a container's first invocation (a cold start).
    pub init_ms: Option<f64>,
}

/// Parse one log line; `None` when it is not a REPORT line or lacks a required figure.
pub fn parse_report(line: &str) -> Option<Report> {
    let rest = line.trim().strip_prefix("REPORT ")?;
    let mut r = Report {
        request_id: String::new(),
        duration_ms: f64::NAN,
        billed_ms: 0,
        memory_mb: 0,
        max_memory_mb: 0,
        init_ms: None,
    };
    let mut billed = None;
    for field in rest.split('\t') {
        let Some((key, value)) = field.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let number = || {
            value
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        };
        match key.trim() {
            "RequestId" => r.request_id = value.to_string(),
            "Duration" => r.duration_ms = number()?,
            "Billed Duration" => billed = number().map(|n| n as u64),
            "Memory Size" => r.memory_mb = number()? as u64,
            "Max Memory Used" => r.max_memory_mb = number()? as u64,
            "Init Duration" => r.init_ms = number(),
            _ => {}
        }
    }
    r.billed_ms = billed?;
    (!r.duration_ms.is_nan()).then_some(r)
}

/// `Task timed out after 1.00 seconds` (the payload or the log of a function that outlived
/// its time limit).
pub fn is_timeout_message(text: &str) -> bool {
    text.contains("Task timed out after")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cold_report_from_the_emulator() {
        let line = "REPORT RequestId: 149e6602-d22b-4dff-8989-fee9b18b7011\tInit Duration: 0.12 ms\tDuration: 23.95 ms\tBilled Duration: 24 ms\tMemory Size: 256 MB\tMax Memory Used: 256 MB\t";
        let r = parse_report(line).unwrap();
        assert_eq!(r.request_id, "149e6602-d22b-4dff-8989-fee9b18b7011");
        assert_eq!(r.init_ms, Some(0.12));
        assert_eq!(r.duration_ms, 23.95);
        assert_eq!(r.billed_ms, 24);
        assert_eq!(r.memory_mb, 256);
        assert_eq!(r.max_memory_mb, 256);
    }

    #[test]
    fn warm_report_from_aws_has_no_init_duration() {
        let line = "REPORT RequestId: 3f5c\tDuration: 1.12 ms\tBilled Duration: 2 ms\tMemory Size: 1024 MB\tMax Memory Used: 30 MB";
        let r = parse_report(line).unwrap();
        assert_eq!(r.init_ms, None);
        assert_eq!(r.billed_ms, 2);
        assert_eq!(r.max_memory_mb, 30);
    }

    #[test]
    fn other_lines_are_not_reports() {
        assert!(parse_report("START RequestId: x Version: $LATEST").is_none());
        assert!(parse_report("REPORT RequestId: x\tDuration: 1 ms").is_none());
        assert!(is_timeout_message(
            "2026-12-07T12:00:00Z 1a2b Task timed out after 1.00 seconds"
        ));
    }
}
