//! The READMEs' links, as the registry's page and docs.rs show them: without a repository to
//! resolve a relative link against, only absolute links work there. Every link is absolute
//! (or an anchor of the same page), every docs.rs link names a crate of this workspace at its
//! current version, and a link to a file names one its package really holds (`cargo package
//! --list`). With `PLAID_DOC_DIR` (the docs.rs-style build `.ci/run` makes), every docs.rs
//! page a README or the guide links to must exist there, anchor included, and the examples'
//! calls must be scraped into the pages of the items they use.
//!
//! One exception, stated: the README's two screenshots are relative images. The registry can
//! only show an image from a URL it can fetch, and the one place that serves this package's
//! files raw is the project's repository, whose URL is not decided yet; until it is, the test
//! only checks that the images are in the package.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The published crates: name, folder.
const CRATES: &[(&str, &str)] = &[
    ("plaid-sdk", "."),
    ("plaid-sandbox", "sandbox"),
    ("plaid-sdk-codegen", "codegen"),
];

/// The READMEs each package ships as its registry page.
const READMES: &[(&str, &str)] = &[
    ("plaid-sdk", "README.md"),
    ("plaid-sandbox", "sandbox/README.md"),
    ("plaid-sdk-codegen", "codegen/README.md"),
];

#[derive(Debug, PartialEq)]
struct Link {
    line: usize,
    url: String,
    image: bool,
}

/// Inline links and images (`[text](url)`, `![alt](url)`) and reference definitions
/// (`[name]: url`), outside fenced code blocks.
fn links(markdown: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('[') {
            if let Some((_, url)) = rest.split_once("]: ") {
                out.push(Link {
                    line: i + 1,
                    url: url.trim().to_owned(),
                    image: false,
                });
                continue;
            }
        }
        let mut from = 0;
        while let Some(at) = line[from..].find("](") {
            let start = from + at + 2;
            let Some(len) = line[start..].find(')') else {
                break;
            };
            // `![alt](src)` is an image; `[![alt](src)](target)` is a link around one.
            let before = &line[..from + at];
            let image = !before.ends_with(')')
                && before
                    .rfind('[')
                    .is_some_and(|open| line[..open].ends_with('!'));
            out.push(Link {
                line: i + 1,
                url: line[start..start + len].to_owned(),
                image,
            });
            from = start + len;
        }
    }
    out
}

/// GitHub's and the registry's heading anchors: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped, `-1`, `-2`, … after a repeated one; headings only, not
/// `#` lines in fenced code.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen = BTreeMap::<String, usize>::new();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if fenced || !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let slug: String = line[hashes..]
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let n = seen.entry(slug.clone()).or_default();
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A package's version, from the `version = "…"` of its manifest's `[package]`.
fn version(folder: &str) -> String {
    let manifest = std::fs::read_to_string(root().join(folder).join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no version in {folder}/Cargo.toml"))
        .to_owned()
}

/// The files `cargo package` puts in a crate.
fn package_files(name: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "-p",
            name,
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo package --list -p {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What a docs.rs URL names.
#[derive(Debug, PartialEq)]
enum DocsRs<'a> {
    /// `/crate/<name>/<version>`: the crate's page, which shows its README.
    CratePage { name: &'a str, version: &'a str },
    /// `/crate/<name>/<version>/source/<path>`: a file of its package.
    Source {
        name: &'a str,
        version: &'a str,
        path: &'a str,
    },
    /// `/<name>[/<version>/<ident>/<page>]`: its API docs.
    Api {
        name: &'a str,
        version: Option<&'a str>,
        page: Option<&'a str>,
    },
}

fn docs_rs(url: &str) -> Option<DocsRs<'_>> {
    let rest = url.strip_prefix("https://docs.rs/")?;
    if let Some(rest) = rest.strip_prefix("crate/") {
        let (name, rest) = rest.split_once('/').unwrap_or((rest, ""));
        return Some(match rest.split_once("/source/") {
            Some((version, path)) => DocsRs::Source {
                name,
                version,
                path,
            },
            None => DocsRs::CratePage {
                name,
                version: rest.trim_end_matches('/'),
            },
        });
    }
    let mut parts = rest.splitn(3, '/');
    let name = parts.next()?;
    Some(DocsRs::Api {
        name,
        version: parts.next().filter(|v| !v.is_empty()),
        page: parts.next(),
    })
}

/// Checks the links of one README (`package`: the files its package holds, by path from the
/// workspace root) or, with `package` `None`, of one guide page, whose other links are
/// intra-doc paths rustdoc checks; returns the problems.
///
/// A docs.rs link to one of this workspace's crates must name it at its current version (a
/// page of another version, or of `latest`, may not have the item or the file), its API
/// pages under the crate's own name, and its files among those its package holds.
fn check_links(
    source: &str,
    text: &str,
    package: Option<&BTreeSet<String>>,
    versions: &BTreeMap<&str, String>,
    files: &mut dyn FnMut(&str) -> BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let here = anchors(text);
    let folder = Path::new(source).parent().unwrap_or(Path::new(""));
    for link in links(text) {
        let at = format!("{source}:{}: {}", link.line, link.url);
        if link.url.starts_with("http://") {
            problems.push(format!("{at}: not https"));
            continue;
        }
        if !link.url.starts_with("https://") {
            let Some(package) = package else {
                continue; // an intra-doc path
            };
            if let Some(anchor) = link.url.strip_prefix('#') {
                if !here.contains(anchor) {
                    problems.push(format!("{at}: no heading makes this anchor"));
                }
                continue;
            }
            // The stated exception: an image the package holds (see the module's docs).
            let path = folder.join(&link.url);
            let path = path.to_string_lossy().trim_start_matches("./").to_owned();
            if !(link.image && package.contains(&path)) {
                problems.push(format!(
                    "{at}: a relative link is broken on the registry's page and docs.rs"
                ));
            }
            continue;
        }
        let Some(target) = docs_rs(&link.url) else {
            continue; // another site (Plaid's docs): not reachable from here
        };
        let (name, version) = match &target {
            DocsRs::CratePage { name, version } | DocsRs::Source { name, version, .. } => {
                (*name, Some(*version).filter(|v| !v.is_empty()))
            }
            DocsRs::Api { name, version, .. } => (*name, *version),
        };
        let Some(current) = versions.get(name) else {
            if name.starts_with("plaid") {
                problems.push(format!("{at}: {name} is not a crate of this workspace"));
            }
            continue; // another crate's docs
        };
        if version != Some(current.as_str()) {
            problems.push(format!(
                "{at}: name {name} at its version, {current}, not {}",
                version.unwrap_or("none")
            ));
        }
        match target {
            DocsRs::Source { path, .. } if !files(name).contains(path) => {
                problems.push(format!("{at}: not a file of the {name} package"));
            }
            DocsRs::Api {
                page: Some(page), ..
            } if !page.starts_with(&format!("{}/", name.replace('-', "_"))) => {
                problems.push(format!("{at}: {name}'s pages are under its own name"));
            }
            _ => {}
        }
    }
    problems
}

/// Every Markdown file whose links are checked: the READMEs, then the guide's pages.
fn sources() -> Vec<(Option<&'static str>, PathBuf)> {
    let mut out: Vec<_> = READMES
        .iter()
        .map(|(name, readme)| (Some(*name), PathBuf::from(readme)))
        .collect();
    let mut guide: Vec<PathBuf> = std::fs::read_dir(root().join("src/guide"))
        .unwrap()
        .map(|e| e.unwrap().path().strip_prefix(root()).unwrap().to_owned())
        .collect();
    guide.sort();
    out.extend(guide.into_iter().map(|p| (None, p)));
    out
}

#[test]
fn every_readme_and_guide_link_works_without_a_repository() {
    let versions: BTreeMap<&str, String> = CRATES
        .iter()
        .map(|(name, folder)| (*name, version(folder)))
        .collect();
    let mut listed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = |name: &str| {
        listed
            .entry(name.to_owned())
            .or_insert_with(|| package_files(name))
            .clone()
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, source) in sources() {
        let text = std::fs::read_to_string(root().join(&source)).unwrap();
        let package = name.map(|name| {
            let folder = CRATES.iter().find(|(n, _)| *n == name).unwrap().1;
            let package = files(name);
            // The page the registry shows is the README the package ships.
            assert!(package.contains("README.md"), "{name} ships no README.md");
            package
                .iter()
                .map(|p| {
                    Path::new(folder)
                        .join(p)
                        .to_string_lossy()
                        .trim_start_matches("./")
                        .to_owned()
                })
                .collect::<BTreeSet<String>>()
        });
        checked += links(&text).len();
        problems.extend(check_links(
            &source.to_string_lossy(),
            &text,
            package.as_ref(),
            &versions,
            &mut files,
        ));
    }
    assert!(
        checked >= 40,
        "only {checked} links found: is the parser broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every docs.rs API page the READMEs and the guide link to, in the docs `.ci/run` builds the
/// way docs.rs does, one crate at a time (`PLAID_DOC_DIR`); and the examples scraped into
/// the sandbox's.
#[test]
#[ignore = "needs PLAID_DOC_DIR: the docs.rs-style build of .ci/run"]
fn every_linked_doc_page_exists() {
    let dir = PathBuf::from(std::env::var("PLAID_DOC_DIR").expect("PLAID_DOC_DIR"));
    let mut problems = Vec::new();
    let mut checked = 0;
    for (_, source) in sources() {
        let text = std::fs::read_to_string(root().join(&source)).unwrap();
        for link in links(&text) {
            let Some(DocsRs::Api {
                name,
                page: Some(page),
                ..
            }) = docs_rs(&link.url)
            else {
                continue;
            };
            if !CRATES.iter().any(|(n, _)| *n == name) {
                continue;
            }
            checked += 1;
            let at = format!("{}:{}: {}", source.display(), link.line, link.url);
            let (file, anchor) = match page.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (page, None),
            };
            let file = if file.is_empty() || file.ends_with('/') {
                format!("{file}index.html")
            } else {
                file.to_owned()
            };
            match std::fs::read_to_string(dir.join(&file)) {
                Err(_) => problems.push(format!("{at}: no page {file}")),
                Ok(html) => {
                    if let Some(anchor) = anchor {
                        if !html.contains(&format!("id=\"{anchor}\"")) {
                            problems.push(format!("{at}: no #{anchor} on {file}"));
                        }
                    }
                }
            }
        }
    }
    // The sandbox's examples, scraped into the page of the type they start from. (plaid-sdk
    // has no examples of its own: they need the sandbox, which depends on it.)
    let page = "plaid_sandbox/struct.Sandbox.html";
    let html = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
    // `class="scraped-example"`, or `"scraped-example expanded"` for a short one.
    let scraped = html
        .match_indices("class=\"scraped-example")
        .filter(|(at, m)| matches!(html.as_bytes().get(at + m.len()), Some(b'"' | b' ')))
        .count();
    println!("{page}: {scraped} scraped example calls");
    if scraped == 0 {
        problems.push(format!("{page}: no scraped example"));
    }
    println!("{checked} docs.rs pages checked in {}", dir.display());
    assert!(checked >= 5, "only {checked} docs.rs links found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_parser_finds_links_images_and_definitions_but_not_code() {
    let text =
        "# A title\nsee [a](https://x/a) and ![b](img.png)\n```\n[c](no)\n```\n[d]: https://x/d\n";
    assert_eq!(
        links(text),
        [
            Link {
                line: 2,
                url: "https://x/a".into(),
                image: false
            },
            Link {
                line: 2,
                url: "img.png".into(),
                image: true
            },
            Link {
                line: 6,
                url: "https://x/d".into(),
                image: false
            },
        ]
    );
    assert!(anchors("## The backend's page, offline").contains("the-backends-page-offline"));
}

#[test]
fn each_broken_shape_of_link_is_refused() {
    let versions = BTreeMap::from([("plaid-sdk", "0.2.0".to_owned())]);
    let package = BTreeSet::from(["docs/a.png".to_owned()]);
    let mut files = |_: &str| BTreeSet::from(["RELIABILITY.md".to_owned()]);
    let text = "\
[ok](https://docs.rs/crate/plaid-sdk/0.2.0/source/RELIABILITY.md)
[ok](https://docs.rs/plaid-sdk/0.2.0/plaid_sdk/) and [ok](https://docs.rs/crate/plaid-sdk/0.2.0)
![ok](docs/a.png) [ok](https://plaid.com/docs/) [ok](#title) [ok](#title-1)
# Title
## Title
[relative](RELIABILITY.md)
![missing image](docs/b.png)
[old](https://docs.rs/plaid-sdk/0.1.0/plaid_sdk/)
[missing](https://docs.rs/crate/plaid-sdk/0.2.0/source/examples/x.rs)
[anchor](#nowhere)
[latest](https://docs.rs/plaid-sdk/latest/plaid_sdk/)
[unpinned](https://docs.rs/plaid-sdk)
[unpinned](https://docs.rs/crate/plaid-sdk)
[wrong crate](https://docs.rs/plaid-sdk/0.2.0/plaid_sandbox/)
[misspelt](https://docs.rs/plaid_sdk/0.2.0/plaid_sdk/)
[plain](http://docs.rs/plaid-sdk/0.2.0/plaid_sdk/)
[![linked image](docs/a.png)](RELIABILITY.md)
```
# code, not a heading
```
[code is no heading](#code-not-a-heading)
";
    let problems = check_links("README.md", text, Some(&package), &versions, &mut files);
    let lines: Vec<&str> = problems
        .iter()
        .map(|p| p.split(": ").next().unwrap())
        .collect();
    let expected: Vec<String> = (6..=17)
        .chain([21])
        .map(|n| format!("README.md:{n}"))
        .collect();
    assert_eq!(lines, expected, "{problems:#?}");
    // A guide page's relative links are intra-doc paths; its docs.rs links are checked.
    let guide = "[c](super::configuration) [old](https://docs.rs/plaid-sdk/0.1.0/plaid_sdk/)";
    let problems = check_links("src/guide/x.md", guide, None, &versions, &mut files);
    assert_eq!(problems.len(), 1, "{problems:#?}");
}
