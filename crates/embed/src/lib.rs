//! etcd's configuration (flags, ETCD_* env, YAML) and the wiring that starts a member
