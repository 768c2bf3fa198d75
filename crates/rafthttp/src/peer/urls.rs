//! The URLs of a peer and which one to use next (etcd's `urlPicker`).

use parking_lot::Mutex;
use url::Url;

/// Parses peer URLs, logging and skipping the ones that are not URLs.
pub(crate) fn parse_urls(peer: u64, urls: &[String]) -> Vec<Url> {
    urls.iter()
        .filter_map(|u| match Url::parse(u) {
            Ok(url) => Some(url),
            Err(err) => {
                tracing::warn!(
                    "remote-peer-id" = %crate::id::Hex(peer),
                    url = %u,
                    %err,
                    "ignoring invalid peer URL"
                );
                None
            }
        })
        .collect()
}

/// Rotates through a peer's URLs: the current one is used until it fails.
pub(crate) struct UrlPicker {
    inner: Mutex<Picked>,
}

struct Picked {
    urls: Vec<Url>,
    current: usize,
}

impl UrlPicker {
    pub(crate) fn new(urls: Vec<Url>) -> UrlPicker {
        UrlPicker {
            inner: Mutex::new(Picked { urls, current: 0 }),
        }
    }

    /// The URL to use now; `None` when the peer has no URL.
    pub(crate) fn pick(&self) -> Option<Url> {
        let p = self.inner.lock();
        p.urls.get(p.current).cloned()
    }

    /// Moves on to the next URL if `url` is still the current one.
    pub(crate) fn unreachable(&self, url: &Url) {
        let mut p = self.inner.lock();
        if p.urls.get(p.current) == Some(url) {
            p.current = (p.current + 1) % p.urls.len();
        }
    }

    pub(crate) fn update(&self, urls: Vec<Url>) {
        *self.inner.lock() = Picked { urls, current: 0 };
    }

    pub(crate) fn urls(&self) -> Vec<Url> {
        self.inner.lock().urls.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: &[&str]) -> Vec<Url> {
        list.iter().map(|u| Url::parse(u).unwrap()).collect()
    }

    #[test]
    fn rotates_only_past_the_current_url() {
        let p = UrlPicker::new(urls(&["http://a:1", "http://b:2"]));
        let a = p.pick().unwrap();
        assert_eq!(a.as_str(), "http://a:1/");
        p.unreachable(&a);
        let b = p.pick().unwrap();
        assert_eq!(b.as_str(), "http://b:2/");
        // A late failure report for `a` does not skip `b`.
        p.unreachable(&a);
        assert_eq!(p.pick(), Some(b.clone()));
        p.unreachable(&b);
        assert_eq!(p.pick(), Some(a));
    }

    #[test]
    fn update_replaces_and_empty_picks_nothing() {
        let p = UrlPicker::new(Vec::new());
        assert_eq!(p.pick(), None);
        p.update(urls(&["http://c:3"]));
        assert_eq!(p.pick().map(|u| u.to_string()), Some("http://c:3/".into()));
    }

    #[test]
    fn invalid_urls_are_skipped() {
        let got = parse_urls(1, &["http://a:1".into(), "not a url".into()]);
        assert_eq!(got.len(), 1);
    }
}
