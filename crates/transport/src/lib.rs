//! Listeners for etcd's client and peer URLs: TCP via socket2, unix sockets, per-connection timeouts, TLS
