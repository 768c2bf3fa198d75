//! Cluster alarms (etcd's alarm store): raised and cleared through raft, kept in the
//! backend's Alarm bucket. While NOSPACE is raised, writes that add data are refused.

use std::collections::BTreeSet;

use etcd_api::etcdserverpb::{AlarmMember, AlarmType};
use etcd_mvcc::{Backend, Bucket, WriteBatch};
use parking_lot::RwLock;

use crate::error::Result;
use crate::ids::id_hex;

#[derive(Debug, Default)]
pub struct Alarms {
    raised: RwLock<BTreeSet<(u64, i32)>>,
}

fn key(member: u64, alarm: i32) -> Vec<u8> {
    let mut k = member.to_be_bytes().to_vec();
    k.extend_from_slice(&alarm.to_be_bytes());
    k
}

impl Alarms {
    pub fn load(backend: &dyn Backend) -> Result<Alarms> {
        let alarms = Alarms::default();
        alarms.reload(backend)?;
        Ok(alarms)
    }

    /// Replaces everything with what the backend holds (after a restored snapshot).
    pub fn reload(&self, backend: &dyn Backend) -> Result<()> {
        let mut raised = BTreeSet::new();
        for (k, _) in backend.scan(Bucket::Alarm, b"", None, None)? {
            if k.len() == 12 {
                let member = u64::from_be_bytes(k[..8].try_into().unwrap_or_default());
                let alarm = i32::from_be_bytes(k[8..].try_into().unwrap_or_default());
                raised.insert((member, alarm));
            }
        }
        *self.raised.write() = raised;
        Ok(())
    }

    /// Raises `alarm` for `member`; returns it as the alarm response lists it.
    pub fn activate(&self, member: u64, alarm: i32, batch: &mut WriteBatch) -> AlarmMember {
        if self.raised.write().insert((member, alarm)) {
            batch.put(Bucket::Alarm, key(member, alarm), b"".to_vec());
            tracing::warn!(member = %id_hex(member), alarm = alarm_name(alarm), "alarm raised");
        }
        AlarmMember {
            member_id: member,
            alarm,
        }
    }

    /// Clears `alarm` (NONE: every alarm) of `member` (0: every member); returns what was
    /// cleared.
    pub fn deactivate(&self, member: u64, alarm: i32, batch: &mut WriteBatch) -> Vec<AlarmMember> {
        let mut raised = self.raised.write();
        let cleared: Vec<(u64, i32)> = raised
            .iter()
            .filter(|(m, a)| {
                (member == 0 || *m == member) && (alarm == AlarmType::None as i32 || *a == alarm)
            })
            .copied()
            .collect();
        for (m, a) in &cleared {
            raised.remove(&(*m, *a));
            batch.delete(Bucket::Alarm, key(*m, *a));
            tracing::info!(member = %id_hex(*m), alarm = alarm_name(*a), "alarm cleared");
        }
        cleared
            .into_iter()
            .map(|(member_id, alarm)| AlarmMember { member_id, alarm })
            .collect()
    }

    /// Raised alarms, filtered like a GET request (member 0 / NONE: all).
    pub fn list(&self, member: u64, alarm: i32) -> Vec<AlarmMember> {
        self.raised
            .read()
            .iter()
            .filter(|(m, a)| {
                (member == 0 || *m == member) && (alarm == AlarmType::None as i32 || *a == alarm)
            })
            .map(|&(member_id, alarm)| AlarmMember { member_id, alarm })
            .collect()
    }

    pub fn no_space(&self) -> bool {
        self.raised
            .read()
            .iter()
            .any(|(_, a)| *a == AlarmType::Nospace as i32)
    }

    /// As StatusResponse.errors lists them (etcd: "memberID:<id> alarm:<NAME> ").
    pub fn status_errors(&self) -> Vec<String> {
        self.raised
            .read()
            .iter()
            .map(|(m, a)| format!("memberID:{m} alarm:{} ", alarm_name(*a)))
            .collect()
    }
}

pub fn alarm_name(alarm: i32) -> &'static str {
    match AlarmType::try_from(alarm) {
        Ok(AlarmType::Nospace) => "NOSPACE",
        Ok(AlarmType::Corrupt) => "CORRUPT",
        _ => "NONE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_mvcc::MemBackend;

    #[test]
    fn raise_list_clear_and_reload() {
        let backend = MemBackend::new();
        let alarms = Alarms::default();
        let mut batch = WriteBatch::default();
        alarms.activate(7, AlarmType::Nospace as i32, &mut batch);
        backend.write(batch).unwrap();
        assert!(alarms.no_space());
        assert_eq!(Alarms::load(&backend).unwrap().list(0, 0).len(), 1);
        assert_eq!(alarms.status_errors(), ["memberID:7 alarm:NOSPACE "]);
        let mut batch = WriteBatch::default();
        assert_eq!(
            alarms
                .deactivate(0, AlarmType::None as i32, &mut batch)
                .len(),
            1
        );
        backend.write(batch).unwrap();
        assert!(!alarms.no_space());
        assert!(Alarms::load(&backend).unwrap().list(0, 0).is_empty());
    }
}
