//! Minimal valid documents for the operations that answer with a file: a one-page PDF (with
//! a correct cross-reference table) and an empty ZIP archive.

/// A one-page PDF 1.4 document whose page says `text` (non-ASCII and PDF string delimiters
/// are replaced), with byte-exact `xref` offsets.
pub(crate) fn pdf(text: &str) -> Vec<u8> {
    let safe: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                if matches!(c, '(' | ')' | '\\') {
                    ' '
                } else {
                    c
                }
            } else {
                '?'
            }
        })
        .take(120)
        .collect();
    let content = format!("BT /F1 12 Tf 72 720 Td ({safe}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{body}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// An empty ZIP archive: the 22-byte end-of-central-directory record alone.
pub(crate) fn zip() -> Vec<u8> {
    let mut out = vec![0u8; 22];
    out[..4].copy_from_slice(b"PK\x05\x06");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pdf_offsets_are_exact() {
        let doc = super::pdf("Plaid (offline) \\ é");
        let text = String::from_utf8(doc.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[startxref..].starts_with("xref\n"));
        for (i, line) in text[startxref..].lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                text[offset..].starts_with(&format!("{} 0 obj", i + 1)),
                "{line}"
            );
        }
    }

    #[test]
    fn zip_is_an_end_record() {
        let z = super::zip();
        assert_eq!(z.len(), 22);
        assert_eq!(&z[..4], b"PK\x05\x06");
        assert!(z[4..].iter().all(|b| *b == 0));
    }
}
