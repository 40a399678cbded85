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
            let image = line[..from + at]
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
/// other than `-` and `_` dropped.
fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| {
            h.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
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
        let (name, rest) = rest.split_once('/')?;
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

/// Checks one README's links against the packages; returns the problems.
fn check_readme(
    readme: &str,
    text: &str,
    package: &BTreeSet<String>,
    versions: &BTreeMap<&str, String>,
    files: &mut dyn FnMut(&str) -> BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let here = anchors(text);
    let folder = Path::new(readme).parent().unwrap_or(Path::new(""));
    for link in links(text) {
        let at = format!("{readme}:{}: {}", link.line, link.url);
        if let Some(anchor) = link.url.strip_prefix('#') {
            if !here.contains(anchor) {
                problems.push(format!("{at}: no heading makes this anchor"));
            }
            continue;
        }
        if !link.url.starts_with("https://") && !link.url.starts_with("http://") {
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
                (*name, Some(*version))
            }
            DocsRs::Api { name, version, .. } => (*name, *version),
        };
        let Some(current) = versions.get(name) else {
            continue; // another crate's docs
        };
        if let Some(version) = version {
            if version != "latest" && version != current {
                problems.push(format!("{at}: {name} is at {current}, not {version}"));
            }
        }
        if let DocsRs::Source { path, .. } = target {
            if !files(name).contains(path) {
                problems.push(format!("{at}: not a file of the {name} package"));
            }
        }
    }
    problems
}

#[test]
fn every_readme_link_works_without_a_repository() {
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
    for (name, readme) in READMES {
        let folder = CRATES.iter().find(|(n, _)| n == name).unwrap().1;
        let package = files(name);
        // The page the registry shows is the README the package ships.
        assert!(package.contains("README.md"), "{name} ships no README.md");
        let text = std::fs::read_to_string(root().join(readme)).unwrap();
        let package_paths: BTreeSet<String> = package
            .iter()
            .map(|p| {
                Path::new(folder)
                    .join(p)
                    .to_string_lossy()
                    .trim_start_matches("./")
                    .to_owned()
            })
            .collect();
        checked += links(&text).len();
        problems.extend(check_readme(
            readme,
            &text,
            &package_paths,
            &versions,
            &mut files,
        ));
    }
    // The guide's links to package files (its other links are intra-doc paths, which
    // rustdoc checks).
    for entry in std::fs::read_dir(root().join("src/guide")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for link in links(&text) {
            if let Some(DocsRs::Source {
                name, path: file, ..
            }) = docs_rs(&link.url)
            {
                checked += 1;
                if versions.contains_key(name) && !files(name).contains(file) {
                    problems.push(format!(
                        "{}:{}: {}: not a file of the {name} package",
                        path.display(),
                        link.line,
                        link.url
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 15,
        "only {checked} links found: is the parser broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every docs.rs API page the READMEs and the guide link to, in the docs `.ci/run` builds the
/// way docs.rs does (`PLAID_DOC_DIR`).
#[test]
#[ignore = "needs PLAID_DOC_DIR: the docs.rs-style build of .ci/run"]
fn every_linked_doc_page_exists() {
    let dir = PathBuf::from(std::env::var("PLAID_DOC_DIR").expect("PLAID_DOC_DIR"));
    let mut sources: Vec<PathBuf> = READMES.iter().map(|(_, r)| root().join(r)).collect();
    for entry in std::fs::read_dir(root().join("src/guide")).unwrap() {
        sources.push(entry.unwrap().path());
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for source in sources {
        let text = std::fs::read_to_string(&source).unwrap();
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
    // The sandbox's examples, scraped into the pages of the items they call.
    for page in [
        "plaid_sandbox/struct.Sandbox.html",
        "plaid_sdk/struct.PlaidClient.html",
    ] {
        let html = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        let scraped = html.matches("class=\"scraped-example\"").count();
        println!("{page}: {scraped} scraped example calls");
        if scraped == 0 {
            problems.push(format!("{page}: no scraped example"));
        }
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
fn a_relative_link_a_stale_version_and_a_missing_file_are_each_refused() {
    let versions = BTreeMap::from([("plaid-sdk", "0.2.0".to_owned())]);
    let package = BTreeSet::from(["docs/a.png".to_owned()]);
    let mut files = |_: &str| BTreeSet::from(["RELIABILITY.md".to_owned()]);
    let text = "\
[ok](https://docs.rs/crate/plaid-sdk/0.2.0/source/RELIABILITY.md)
[ok](https://docs.rs/plaid-sdk/latest/plaid_sdk/)
![ok](docs/a.png)
[ok](#title)
# Title
[relative](RELIABILITY.md)
![missing image](docs/b.png)
[old](https://docs.rs/plaid-sdk/0.1.0/plaid_sdk/)
[missing](https://docs.rs/crate/plaid-sdk/0.2.0/source/examples/x.rs)
[anchor](#nowhere)
";
    let problems = check_readme("README.md", text, &package, &versions, &mut files);
    let lines: Vec<&str> = problems
        .iter()
        .map(|p| p.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "README.md:6",
            "README.md:7",
            "README.md:8",
            "README.md:9",
            "README.md:10"
        ],
        "{problems:#?}"
    );
}
