//! Parsing `--endpoints`: `host:port` with or without `http://`, normalised to gRPC URIs.

use tonic::transport::Uri;

use crate::Error;

/// Normalises each endpoint to `http://host:port`.
///
/// Accepts `host:port`, `http://host:port` and a trailing `/`; rejects TLS and unix
/// endpoints (this tool dials plain TCP only) and endpoints without a port.
pub fn parse_endpoints<S: AsRef<str>>(endpoints: &[S]) -> Result<Vec<String>, Error> {
    let parsed = endpoints
        .iter()
        .map(|e| e.as_ref().trim())
        .filter(|e| !e.is_empty())
        .map(parse_endpoint)
        .collect::<Result<Vec<_>, _>>()?;
    if parsed.is_empty() {
        return Err(Error::NoEndpoints);
    }
    Ok(parsed)
}

fn parse_endpoint(endpoint: &str) -> Result<String, Error> {
    let invalid = |reason| Error::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let authority = match endpoint.split_once("://") {
        None => endpoint,
        Some(("http", rest)) => rest,
        Some(("https", _)) => return Err(invalid("TLS endpoints are not supported")),
        Some(_) => return Err(invalid("only http:// endpoints are supported")),
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.is_empty() || authority.contains('/') {
        return Err(invalid("expected host:port"));
    }
    let uri = format!("http://{authority}");
    let parsed: Uri = uri.parse().map_err(|_| invalid("expected host:port"))?;
    if parsed.port_u16().is_none() {
        return Err(invalid("missing port"));
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(invalid("missing host"));
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_with_and_without_scheme() {
        let got =
            parse_endpoints(&["127.0.0.1:2379", "http://10.0.0.1:2380", " localhost:1/ "]).unwrap();
        assert_eq!(
            got,
            [
                "http://127.0.0.1:2379",
                "http://10.0.0.1:2380",
                "http://localhost:1"
            ]
        );
    }

    #[test]
    fn accepts_ipv6() {
        assert_eq!(
            parse_endpoints(&["[::1]:2379"]).unwrap(),
            ["http://[::1]:2379"]
        );
    }

    #[test]
    fn skips_blank_entries_but_not_all() {
        assert_eq!(parse_endpoints(&["", "a:1"]).unwrap(), ["http://a:1"]);
        assert!(matches!(
            parse_endpoints(&["", " "]),
            Err(Error::NoEndpoints)
        ));
        assert!(matches!(
            parse_endpoints::<&str>(&[]),
            Err(Error::NoEndpoints)
        ));
    }

    #[test]
    fn rejects_bad_endpoints() {
        for bad in [
            "https://a:1",
            "unix://sock",
            "127.0.0.1",
            "http://a:1/path",
            "http://",
            ":2379",
            "a:notaport",
        ] {
            assert!(
                matches!(parse_endpoints(&[bad]), Err(Error::InvalidEndpoint { .. })),
                "{bad} accepted"
            );
        }
    }
}
