//! EtcdServer: raft loop, proposal pipeline, apply loop and the gRPC services
