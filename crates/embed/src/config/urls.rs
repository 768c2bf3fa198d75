//! URL lists as etcd's `types.NewURLs` accepts them (http, https, unix, unixs; always
//! `host:port`; never a path), and URLs printed the way Go's `url.URL.String` prints them.

use url::{Position, Url};

use super::values::go_quote;

/// Parses one URL with etcd's rules and messages. Surrounding spaces are ignored.
pub(crate) fn parse_url(input: &str) -> Result<Url, String> {
    let s = input.trim();
    let scheme_error = || format!("URL scheme must be http, https, unix, or unixs: {s}");
    let url = match Url::parse(s) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => return Err(scheme_error()),
        Err(e) => return Err(format!("parse {}: {e}", go_quote(s))),
    };
    if !matches!(url.scheme(), "http" | "https" | "unix" | "unixs") {
        return Err(scheme_error());
    }
    let after_scheme = s.split_once(':').map_or("", |(_, rest)| rest);
    let Some(rest) = after_scheme.strip_prefix("//") else {
        return Err(format!(
            r#"URL address does not have the form "host:port": {s}"#
        ));
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if split_host_port(host_port).is_err() {
        return Err(format!(
            r#"URL address does not have the form "host:port": {s}"#
        ));
    }
    if rest[authority_end..].starts_with('/') {
        return Err(format!("URL must not contain a path: {s}"));
    }
    Ok(url)
}

/// Parses a comma-separated list; the result is sorted and free of duplicates, as
/// etcd's `flags.UniqueURLs` keeps it.
pub(crate) fn parse_url_list(s: &str) -> Result<Vec<Url>, String> {
    let mut urls = s.split(',').map(parse_url).collect::<Result<Vec<_>, _>>()?;
    sort_dedup(&mut urls);
    Ok(urls)
}

/// Sorts URLs by their Go string form and drops repeats.
pub(crate) fn sort_dedup(urls: &mut Vec<Url>) {
    urls.sort_by_key(url_string);
    urls.dedup_by(|a, b| url_string(a) == url_string(b));
}

/// A URL as Go prints it: `http://host:2379`, without the `/` the WHATWG parser adds to
/// an empty path.
pub fn url_string(u: &Url) -> String {
    if u.path() == "/" {
        format!(
            "{}{}",
            &u[..Position::BeforePath],
            &u[Position::AfterPath..]
        )
    } else {
        u.as_str().to_string()
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; the port may be empty.
pub(crate) fn split_host_port(hp: &str) -> Result<(&str, &str), &'static str> {
    if let Some(rest) = hp.strip_prefix('[') {
        let end = rest.find(']').ok_or("missing ']' in address")?;
        let port = rest[end + 1..]
            .strip_prefix(':')
            .ok_or("missing port in address")?;
        if port.contains([':', '[', ']']) {
            return Err("too many colons in address");
        }
        return Ok((&rest[..end], port));
    }
    let (host, port) = hp.rsplit_once(':').ok_or("missing port in address")?;
    if host.contains(':') {
        return Err("too many colons in address");
    }
    if host.contains(['[', ']']) || port.contains(['[', ']']) {
        return Err("unexpected '[' or ']' in address");
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_etcd_schemes_with_host_and_port() {
        for ok in [
            "http://localhost:2379",
            "https://10.0.0.1:2379",
            "http://[::1]:2380",
            "unix://localhost:1234",
            "unixs://sock.name:0",
            " http://a:1 ",
        ] {
            assert!(parse_url(ok).is_ok(), "{ok}: {:?}", parse_url(ok));
        }
    }

    #[test]
    fn rejects_with_etcd_messages() {
        let cases = [
            ("foo", "URL scheme must be http, https, unix, or unixs: foo"),
            (
                "localhost:2379",
                "URL scheme must be http, https, unix, or unixs: localhost:2379",
            ),
            (
                "ftp://a:1",
                "URL scheme must be http, https, unix, or unixs: ftp://a:1",
            ),
            ("", "URL scheme must be http, https, unix, or unixs: "),
            (
                "http://a",
                r#"URL address does not have the form "host:port": http://a"#,
            ),
            ("http://a:1/x", "URL must not contain a path: http://a:1/x"),
            ("http://a:1/", "URL must not contain a path: http://a:1/"),
            (
                "unix:/tmp/sock",
                r#"URL address does not have the form "host:port": unix:/tmp/sock"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_url(input).unwrap_err(), want, "{input}");
        }
        let err = parse_url("http://a b:1").unwrap_err();
        assert!(err.starts_with("parse \"http://a b:1\": "), "{err}");
    }

    #[test]
    fn lists_are_sorted_and_unique() {
        let urls = parse_url_list("http://b:2,http://a:1,http://b:2").unwrap();
        let strings: Vec<String> = urls.iter().map(url_string).collect();
        assert_eq!(strings, ["http://a:1", "http://b:2"]);
    }

    #[test]
    fn url_string_drops_the_root_path() {
        let u = Url::parse("http://localhost:2379").unwrap();
        assert_eq!(url_string(&u), "http://localhost:2379");
        let u = Url::parse("unix://localhost:1234").unwrap();
        assert_eq!(url_string(&u), "unix://localhost:1234");
        let u = Url::parse("http://a:1?x=1").unwrap();
        assert_eq!(url_string(&u), "http://a:1?x=1");
    }

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("a:1"), Ok(("a", "1")));
        assert_eq!(split_host_port(":1"), Ok(("", "1")));
        assert_eq!(split_host_port("[::1]:2"), Ok(("::1", "2")));
        assert_eq!(split_host_port("a:"), Ok(("a", "")));
        assert!(split_host_port("a").is_err());
        assert!(split_host_port("::1:2").is_err());
        assert!(split_host_port("[::1]").is_err());
    }
}
