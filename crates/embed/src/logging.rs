//! Structured JSON logs in the shape etcd's zap logger writes them
//! (`{"level":"info","ts":"...","caller":"...","msg":"...", fields...}`), one line per
//! event, to the `--log-outputs` (stderr by default).

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::error::EmbedError;

type Sink = Arc<Mutex<Vec<Box<dyn Write + Send>>>>;

/// Writes every event as one JSON line to each sink.
struct JsonLines {
    sinks: Sink,
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            Value::String(format!("{value:?}")),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_string(), Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG | Level::TRACE => "debug",
    }
}

/// One log line for an event, in etcd's field order.
fn render(level: &Level, caller: &str, fields: Map<String, Value>) -> String {
    let mut fields = fields;
    let msg = fields
        .remove("message")
        .unwrap_or(Value::String(String::new()));
    let mut line = Map::new();
    line.insert("level".into(), Value::String(level_name(level).into()));
    line.insert(
        "ts".into(),
        Value::String(humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()),
    );
    line.insert("caller".into(), Value::String(caller.into()));
    line.insert("msg".into(), msg);
    line.extend(fields);
    Value::Object(line).to_string()
}

impl<S: Subscriber> Layer<S> for JsonLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let file = meta.file().unwrap_or(meta.target());
        let short = file
            .rsplit('/')
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("/");
        let caller = format!("{short}:{}", meta.line().unwrap_or(0));
        let mut line = render(meta.level(), &caller, fields.0);
        line.push('\n');
        if let Ok(mut sinks) = self.sinks.lock() {
            for s in sinks.iter_mut() {
                let _ = s.write_all(line.as_bytes());
            }
        }
    }
}

/// etcd's `--log-level` names.
pub fn level_filter(level: &str) -> LevelFilter {
    match level {
        "debug" => LevelFilter::DEBUG,
        "warn" => LevelFilter::WARN,
        "error" | "dpanic" | "panic" | "fatal" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    }
}

/// Installs the process-wide logger. `outputs` as `--log-outputs`: "default", "stderr",
/// "stdout" or file paths. Only the first call in a process installs anything.
pub fn init(level: &str, outputs: &[String]) -> Result<(), EmbedError> {
    let mut sinks: Vec<Box<dyn Write + Send>> = Vec::new();
    for out in outputs {
        match out.as_str() {
            "default" | "stderr" => sinks.push(Box::new(std::io::stderr())),
            "stdout" => sinks.push(Box::new(std::io::stdout())),
            path => {
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| EmbedError::Logging(format!("open log output {path}: {e}")))?;
                sinks.push(Box::new(f));
            }
        }
    }
    if sinks.is_empty() {
        sinks.push(Box::new(std::io::stderr()));
    }
    let level = level_filter(level);
    // raft-rs is chatty at info about every vote; keep it one level down unless debugging.
    let raft_level = if level == LevelFilter::DEBUG {
        LevelFilter::DEBUG
    } else {
        LevelFilter::WARN
    };
    let filter = Targets::new()
        .with_default(level)
        .with_target("raft", raft_level)
        .with_target("sled", LevelFilter::WARN)
        .with_target(
            "h2",
            if level == LevelFilter::DEBUG {
                LevelFilter::DEBUG
            } else {
                LevelFilter::WARN
            },
        )
        .with_target("hyper", LevelFilter::WARN)
        .with_target("tower", LevelFilter::WARN);
    let subscriber = tracing_subscriber::registry().with(
        JsonLines {
            sinks: Arc::new(Mutex::new(sinks)),
        }
        .with_filter(filter),
    );
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_zap_shaped_json() {
        let mut f = Map::new();
        f.insert(
            "message".into(),
            Value::String("ready to serve client requests".into()),
        );
        f.insert("address".into(), Value::String("127.0.0.1:2379".into()));
        let line = render(&Level::INFO, "embed/serve.rs:10", f);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "info");
        assert_eq!(v["msg"], "ready to serve client requests");
        assert_eq!(v["address"], "127.0.0.1:2379");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        assert!(line.starts_with("{\"level\":\"info\",\"ts\":"), "{line}");
    }
}
