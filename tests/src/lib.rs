//! Black-box tests: spawn the etcd binary and drive it as users do
