//! Generates the whole Plaid API from its OpenAPI spec (`spec/plaid.json`, or the file named
//! by `PLAID_OPENAPI_SPEC`) into `$OUT_DIR/plaid_api.rs`, included by `src/generated.rs`. The
//! generator is the `plaid-sdk-codegen` crate in `codegen/`.
//!
//! It also writes the guide's screenshots (`docs/images/*.png`, made by the browser tests in
//! `examples/tests/browser.rs`) as Markdown images with `data:` URLs, so that the guide shows
//! them on docs.rs, which serves no file of the package but its docs.

use std::path::Path;

/// The screenshots the guide shows (in `docs/images/`), each written as the Markdown link
/// reference definition `[<name>]: data:image/png;base64,…` to `$OUT_DIR/<name>.md`.
const SCREENSHOTS: &[&str] = &["link-emulator", "backend-page"];

fn main() {
    if let Err(e) = plaid_sdk_codegen::run() {
        eprintln!("\nerror: plaid-sdk could not generate the Plaid API\n  {e}\n");
        std::process::exit(1);
    }
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in SCREENSHOTS {
        let png = Path::new("docs/images").join(format!("{name}.png"));
        println!("cargo:rerun-if-changed={}", png.display());
        // Without the picture (a checkout that lacks it), the reference is an empty image.
        let bytes = std::fs::read(&png).unwrap_or_default();
        let markdown = format!("\n[{name}]: data:image/png;base64,{}\n", base64(&bytes));
        let target = Path::new(&out).join(format!("{name}.md"));
        if let Err(e) = std::fs::write(&target, markdown) {
            eprintln!("error: cannot write {}: {e}", target.display());
            std::process::exit(1);
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
