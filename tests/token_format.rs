//! The published test vectors of the token text format (rule T5).

// A failed unwrap or panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use access_tokens::{FormatError, TokenFormat};

#[test]
fn t5_published_vectors() {
    let vectors = include_str!("vectors/token_format.txt");
    let mut checked = 0;
    for line in vectors
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
    {
        let fields: Vec<&str> = line.split(' ').collect();
        let [verdict, prefix, text] = fields[..] else {
            panic!("bad vector line {line:?}")
        };
        let format = TokenFormat::with_prefix(prefix).unwrap();
        let expected = match verdict {
            "valid" => Ok(()),
            "malformed" => Err(FormatError::Malformed),
            "bad_checksum" => Err(FormatError::BadChecksum),
            other => panic!("unknown verdict {other:?}"),
        };
        assert_eq!(format.check(text), expected, "{line}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} vectors");
}

#[test]
fn t13_scan_finds_the_valid_vectors_in_a_paste() {
    let vectors = include_str!("vectors/token_format.txt");
    let format = TokenFormat::default();
    // Every vector checked under the default prefix, valid or not, pasted
    // into one text: the scan must find exactly the valid ones.
    let paste: String = vectors
        .lines()
        .filter_map(|line| line.split_once(" plqk "))
        .map(|(_, text)| format!("{text}\n"))
        .collect();
    let expected: Vec<&str> = vectors
        .lines()
        .filter_map(|line| line.strip_prefix("valid plqk "))
        .collect();
    let found: Vec<&str> = format.scan(&paste).collect();
    assert_eq!(found, expected);
}
