//! Finds the operation of a method and a request path among the spec's path templates:
//! exact paths first, then templates (`/fdx/consents/{consentId}`), where a literal segment
//! beats a parameter at the first place two templates differ.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

/// The routes of a spec's operations.
#[derive(Debug, Default)]
pub(crate) struct Router {
    exact: HashMap<(String, String), usize>,
    templated: Vec<(String, Vec<Segment>, usize)>,
}

/// A request path without its query, fragment and trailing slash.
fn normalize(path: &str) -> &str {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    let path = path.get(..end).unwrap_or(path);
    if path.len() > 1 {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').skip(1)
}

impl Router {
    /// Adds the operation `index` served at `method` and the template `path`.
    pub(crate) fn add(&mut self, method: &str, path: &str, index: usize) {
        let method = method.to_ascii_uppercase();
        if path.contains('{') {
            let segs = segments(path)
                .map(|s| {
                    if s.contains('{') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_owned())
                    }
                })
                .collect();
            self.templated.push((method, segs, index));
        } else {
            self.exact
                .entry((method, normalize(path).to_owned()))
                .or_insert(index);
        }
    }

    /// The operation serving `method` and `path`.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<usize> {
        let method = method.to_ascii_uppercase();
        let path = normalize(path);
        if let Some(i) = self.exact.get(&(method.clone(), path.to_owned())) {
            return Some(*i);
        }
        let parts: Vec<&str> = segments(path).collect();
        let mut best: Option<(Vec<bool>, usize)> = None;
        for (m, segs, index) in &self.templated {
            if *m != method || segs.len() != parts.len() {
                continue;
            }
            let fits = segs.iter().zip(&parts).all(|(s, p)| match s {
                Segment::Literal(l) => l == p,
                Segment::Param => !p.is_empty(),
            });
            if !fits {
                continue;
            }
            let score: Vec<bool> = segs
                .iter()
                .map(|s| matches!(s, Segment::Literal(_)))
                .collect();
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, *index));
            }
        }
        best.map(|(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::Router;

    #[test]
    fn static_before_templated() {
        let mut r = Router::default();
        r.add("get", "/fdx/recipients", 0);
        r.add("get", "/fdx/recipient/{recipientId}", 1);
        r.add("get", "/fdx/recipient/special", 2);
        r.add("get", "/a/{x}/c", 3);
        r.add("get", "/a/b/{y}", 4);
        r.add("post", "/accounts/get", 5);
        assert_eq!(r.find("GET", "/fdx/recipients"), Some(0));
        assert_eq!(r.find("GET", "/fdx/recipient/r1"), Some(1));
        assert_eq!(r.find("GET", "/fdx/recipient/special"), Some(2));
        assert_eq!(r.find("GET", "/a/b/c"), Some(4));
        assert_eq!(r.find("POST", "/accounts/get/"), Some(5));
        assert_eq!(r.find("post", "/accounts/get?x=1"), Some(5));
        assert_eq!(r.find("GET", "/accounts/get"), None);
        assert_eq!(r.find("GET", "/fdx/recipient/"), None);
        assert_eq!(r.find("GET", ""), None);
    }
}
