//! What a benchmark run returns: the main summary plus the summaries of auxiliary phases
//! (watch creation, the writer's puts), printable as etcd's text or as one JSON object.

use std::fmt::{self, Display, Formatter};

use serde::{Deserialize, Serialize};

use crate::{Error, Summary};

/// The result of one run. In JSON the main summary's fields sit at the top level and the
/// auxiliary phases, if any, under `"phases"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The workload's own measurement (for watch workloads: event delivery).
    #[serde(flatten)]
    pub summary: Summary,
    /// Auxiliary phases measured on the way, in the order they ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Summary>,
}

impl Outcome {
    /// An outcome without auxiliary phases.
    pub fn single(summary: Summary) -> Self {
        Self {
            summary,
            phases: Vec::new(),
        }
    }

    /// The `--json` output: one JSON object on one line.
    pub fn to_json(&self) -> Result<String, Error> {
        Ok(serde_json::to_string(self)?)
    }

    /// Parses what [`Outcome::to_json`] printed.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Ok(serde_json::from_str(json)?)
    }
}

impl Display for Outcome {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.phases.is_empty() {
            return write!(f, "{}", self.summary);
        }
        for phase in self.phases.iter().chain([&self.summary]) {
            write!(f, "\n{} summary:\n{phase}", phase.workload)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Recorder;

    use super::*;

    fn summary(name: &str, latencies_us: &[u64], errors: u64) -> Summary {
        let mut r = Recorder::new();
        for &us in latencies_us {
            r.record_us(us);
        }
        r.record_errors("rpc error: code = Unavailable desc = x", errors);
        Summary::new(name, &r, Duration::from_secs(1))
    }

    #[test]
    fn json_has_the_contract_fields_at_top_level() {
        let outcome = Outcome::single(summary("put", &[1000, 3000], 1));
        let json = outcome.to_json().unwrap();
        assert!(!json.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["workload"], "put");
        assert_eq!(v["requests"], 2);
        assert_eq!(v["errors"], 1);
        assert_eq!(v["total_secs"], 1.0);
        assert_eq!(v["rps"], 2.0);
        for key in ["min", "avg", "stddev", "p50", "p90", "p99", "p999", "max"] {
            assert!(v["latency_ms"][key].is_number(), "latency_ms.{key}");
        }
        assert_eq!(v["latency_ms"]["min"], 1.0);
        assert_eq!(v["latency_ms"]["max"], 3.0);
        assert_eq!(v["histogram"].as_array().unwrap().len(), 11);
        assert!(v.get("phases").is_none());
    }

    #[test]
    fn json_round_trips_with_phases() {
        let outcome = Outcome {
            summary: summary("watch", &[10, 20], 0),
            phases: vec![summary("watch-create", &[5], 0), summary("put", &[7], 2)],
        };
        let back = Outcome::from_json(&outcome.to_json().unwrap()).unwrap();
        // Floats may differ in the last bit after parsing; compare what is exact.
        let shape = |o: &Outcome| {
            o.phases
                .iter()
                .chain([&o.summary])
                .map(|s| {
                    let counts: Vec<u64> = s.histogram.iter().map(|b| b.count).collect();
                    (
                        s.workload.clone(),
                        s.requests,
                        s.errors,
                        counts,
                        s.error_counts.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(&back), shape(&outcome));
        assert_eq!(back.phases[1].errors, 2);
    }

    #[test]
    fn text_titles_each_phase() {
        let outcome = Outcome {
            summary: summary("watch-latency", &[10], 0),
            phases: vec![summary("put", &[7], 0)],
        };
        let text = outcome.to_string();
        let put = text.find("\nput summary:\n").unwrap();
        let main = text.find("\nwatch-latency summary:\n").unwrap();
        assert!(put < main);
        assert_eq!(text.matches("Summary:").count(), 2);
    }

    #[test]
    fn single_text_is_the_summary() {
        let s = summary("range", &[10], 0);
        assert_eq!(Outcome::single(s.clone()).to_string(), s.to_string());
    }
}
