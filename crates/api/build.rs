//! Generates the etcd v3 API from `proto/` with the vendored protoc, so the build needs no
//! system protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let protos = [
        "mvccpb/kv.proto",
        "authpb/auth.proto",
        "membershippb/membership.proto",
        "etcdserverpb/rpc.proto",
        "etcdserverpb/raft_internal.proto",
        "v3electionpb/v3election.proto",
        "v3lockpb/v3lock.proto",
    ]
    .map(|p| root.join(p));

    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    config.bytes(["."]);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_with_config(config, &protos, &[root])?;
    Ok(())
}
