//! `cargo xtask cluster --size N`: a local cluster of our `etcd` on free ports, each
//! member's log printed with a prefix, everything stopped on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use etcd_launcher::{MemberSpec, plan};

fn prefix_lines(name: String, stream: impl std::io::Read + Send + 'static) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            println!("[{name}] {line}");
        }
    });
}

pub fn run(etcd: &Path, size: usize, base_dir: Option<PathBuf>) -> Result<()> {
    let dir = match base_dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("etcd-cluster-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let (members, initial) = plan(size)?;
    let mut children: Vec<Child> = Vec::new();
    for m in &members {
        let args = m.args(&dir.join(&m.name), &initial, "xtask-cluster", "new");
        let mut child = Command::new(etcd)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", etcd.display()))?;
        if let Some(out) = child.stderr.take() {
            prefix_lines(m.name.clone(), out);
        }
        if let Some(out) = child.stdout.take() {
            prefix_lines(m.name.clone(), out);
        }
        children.push(child);
    }
    let endpoints = members
        .iter()
        .map(MemberSpec::client_url)
        .collect::<Vec<_>>()
        .join(",");
    println!("cluster of {size} members; data in {}", dir.display());
    println!("endpoints: {endpoints}");
    println!("try: ETCDCTL_API=3 etcdctl --endpoints={endpoints} member list");
    println!("Ctrl-C stops all members.");

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("install Ctrl-C handler")?;
    }
    let mut exits = Exits::new(children.len());
    while !stop.load(Ordering::SeqCst) {
        for (i, (m, c)) in members.iter().zip(children.iter_mut()).enumerate() {
            if exits.exited(i) {
                continue;
            }
            if let Ok(Some(status)) = c.try_wait()
                && exits.note(i)
            {
                println!("[{}] exited with {status}", m.name);
            }
        }
        if exits.all() {
            anyhow::bail!("every member of the cluster exited");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("stopping the cluster");
    // An exited child is reaped: its PID may belong to another process by now.
    for (i, c) in children.iter().enumerate() {
        if !exits.exited(i) {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
        }
    }
    for (i, c) in children.iter_mut().enumerate() {
        if !exits.exited(i) {
            let _ = c.wait();
        }
    }
    Ok(())
}

/// Which members have exited. Invariant: each member's exit is reported once, although
/// `Child::try_wait` keeps returning the saved status on every later poll.
struct Exits {
    exited: Vec<bool>,
}

impl Exits {
    fn new(members: usize) -> Exits {
        Exits {
            exited: vec![false; members],
        }
    }

    fn exited(&self, member: usize) -> bool {
        self.exited[member]
    }

    /// Records that `member` exited; true the first time only.
    fn note(&mut self, member: usize) -> bool {
        !std::mem::replace(&mut self.exited[member], true)
    }

    /// Whether every member has exited (none is left to serve or to stop).
    fn all(&self) -> bool {
        self.exited.iter().all(|e| *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_exit_is_reported_once_and_all_exited_ends_the_watch() {
        let mut exits = Exits::new(2);
        assert!(exits.note(1));
        assert!(!exits.note(1));
        assert!(exits.exited(1) && !exits.exited(0));
        assert!(!exits.all());
        assert!(exits.note(0));
        assert!(exits.all());
    }
}
