//! Integration tests of the lessor through its public API: a large expiry queue and a
//! leader failover driven by checkpoints, all on a manual clock.

mod failover;
mod scale;
