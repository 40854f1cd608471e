use ipnet::IpNet;
use proptest::prelude::*;

use super::stix::{read_pattern, PatternError};
use super::*;

fn net(s: &str) -> Indicator {
    Indicator::Net(s.parse::<IpNet>().expect("a network"))
}

fn domain(s: &str) -> Indicator {
    Indicator::Domain(s.to_string())
}

fn url(s: &str) -> Indicator {
    Indicator::Url(s.to_string())
}

fn text(s: &str) -> Indicator {
    Indicator::Text(s.to_string())
}

fn err(line: u32, column: u32, message: &str) -> EntryError {
    EntryError {
        line,
        column,
        message: message.to_string(),
    }
}

/// Every line and column `parsed` reports is in `src`.
fn assert_within(src: &str, parsed: &Parsed) {
    let lines: Vec<usize> = src.split('\n').map(|l| l.chars().count()).collect();
    for (_, line) in &parsed.entries {
        assert!(
            *line >= 1 && (*line as usize) <= lines.len(),
            "entry line {line} of {}",
            lines.len()
        );
    }
    for e in &parsed.errors {
        assert!(
            e.line >= 1 && (e.line as usize) <= lines.len(),
            "error line {} of {}: {e:?}",
            e.line,
            lines.len()
        );
        let len = lines[e.line as usize - 1];
        assert!(
            e.column >= 1 && (e.column as usize) <= len + 1,
            "error column {} of {len}: {e:?}",
            e.column
        );
    }
}

// ---- classify ----

#[test]
fn classify_addresses_and_networks() {
    assert_eq!(classify("198.51.100.7"), net("198.51.100.7/32"));
    assert_eq!(classify("  198.51.100.7\t"), net("198.51.100.7/32"));
    assert_eq!(classify("0.0.0.0"), net("0.0.0.0/32"));
    assert_eq!(classify("203.0.113.0/24"), net("203.0.113.0/24"));
    assert_eq!(classify("10.1.2.3/8"), net("10.0.0.0/8"));
    assert_eq!(classify("198.51.100.7/32"), net("198.51.100.7/32"));
    assert_eq!(classify("0.0.0.0/0"), net("0.0.0.0/0"));
    assert_eq!(classify("2001:db8::1"), net("2001:db8::1/128"));
    assert_eq!(classify("2001:DB8::/32"), net("2001:db8::/32"));
    assert_eq!(classify("2001:db8::1/32"), net("2001:db8::/32"));
    assert_eq!(classify("::"), net("::/128"));
    assert_eq!(
        classify("::ffff:198.51.100.7"),
        net("::ffff:198.51.100.7/128")
    );
}

#[test]
fn classify_near_addresses_are_text() {
    for entry in [
        "198.51.100.0/33",
        "2001:db8::/129",
        "198.51.100.0/",
        "198.51.100.0/+8",
        "198.51.100.0/0008",
        "198.51.100.0/8/8",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.",
        "2001:db8::1%eth0",
        "[2001:db8::1]",
        "198.51.100.7:443",
    ] {
        assert_eq!(classify(entry), text(entry), "{entry}");
    }
}

#[test]
fn classify_domains() {
    assert_eq!(classify("evil.example"), domain("evil.example"));
    assert_eq!(classify("Evil.EXAMPLE."), domain("evil.example"));
    assert_eq!(classify("*.pool.example"), domain("pool.example"));
    assert_eq!(classify("*.Pool.Example."), domain("pool.example"));
    assert_eq!(
        classify("_dmarc.mail-1.example"),
        domain("_dmarc.mail-1.example")
    );
    assert_eq!(
        classify("xn--bcher-kva.example"),
        domain("xn--bcher-kva.example")
    );
    assert_eq!(classify("1.2.3.4.example"), domain("1.2.3.4.example"));
    assert_eq!(classify("123.example"), domain("123.example"));
    let longest = format!("{}.example", "a".repeat(63));
    assert_eq!(classify(&longest), domain(&longest));
    for entry in [
        "localhost",
        "example.",
        "*.example",
        "a..example",
        ".example.com",
        "example.123",
        "exa mple.com",
        "bücher.example",
        "evil.example/path",
        "*evil.example",
    ] {
        assert_eq!(classify(entry), text(entry), "{entry}");
    }
    let too_long_label = format!("{}.example", "a".repeat(64));
    assert_eq!(classify(&too_long_label), text(&too_long_label));
    let too_long_name = format!("{}example", "abcdefghi.".repeat(25));
    assert_eq!(classify(&too_long_name), text(&too_long_name));
}

#[test]
fn classify_urls() {
    assert_eq!(
        classify("HTTPS://Evil.Example:8443/Path?Q=A#Frag"),
        url("https://evil.example:8443/Path?Q=A#Frag")
    );
    assert_eq!(classify("http://evil.example"), url("http://evil.example"));
    assert_eq!(
        classify("hxxp://Evil.Example/x"),
        url("hxxp://evil.example/x")
    );
    assert_eq!(
        classify("svn+ssh://Host.Example/Repo"),
        url("svn+ssh://host.example/Repo")
    );
    assert_eq!(
        classify("http://198.51.100.7/a"),
        url("http://198.51.100.7/a")
    );
    for entry in [
        "http://",
        "http:///path",
        "://evil.example",
        "1http://evil.example",
        "ht tp://evil.example",
        "http://evil.example/a b",
    ] {
        assert_eq!(classify(entry), text(entry), "{entry}");
    }
}

#[test]
fn classify_other_text() {
    assert_eq!(classify(" sqlmap/1.7 "), text("sqlmap/1.7"));
    assert_eq!(
        classify("Nmap Scripting Engine"),
        text("Nmap Scripting Engine")
    );
    assert_eq!(classify(""), text(""));
    assert_eq!(classify("   "), text(""));
}

// ---- text ----

#[test]
fn text_list_with_comments_crlf_and_bom() {
    let src = "\u{feff}# threat list, updated daily\r\n\
               198.51.100.7\r\n\
               \r\n\
               \x20 203.0.113.0/24   # a scanner network\r\n\
               2001:DB8::/32\r\n\
               evil.example.\r\n\
               *.pool.example\r\n\
               http://Evil.Example/Payload.exe#x\r\n\
               \tNmap Scripting Engine\r\n\
               \x20   # an indented comment\r\n\
               203.0.113.5\t# after a tab\r\n\
               10.1.2.3/8\r\n\
               last.example";
    let parsed = parse_text(src);
    assert_eq!(parsed.errors, []);
    assert_eq!(
        parsed.entries,
        [
            (net("198.51.100.7/32"), 2),
            (net("203.0.113.0/24"), 4),
            (net("2001:db8::/32"), 5),
            (domain("evil.example"), 6),
            (domain("pool.example"), 7),
            (url("http://evil.example/Payload.exe#x"), 8),
            (text("Nmap Scripting Engine"), 9),
            (net("203.0.113.5/32"), 11),
            (net("10.0.0.0/8"), 12),
            (domain("last.example"), 13),
        ]
    );
}

#[test]
fn text_two_values_on_a_line_are_errors_and_the_rest_is_read() {
    let src = "198.51.100.7\n  198.51.100.8 198.51.100.9\nevil.example\t443\n\
               203.0.113.0/24,203.0.113.1\n198.51.100.10\n";
    let parsed = parse_text(src);
    assert_eq!(
        parsed.errors,
        [
            err(
                2,
                3,
                "`198.51.100.8 198.51.100.9` holds more than one value; write one entry per \
                 line (a comment after an entry starts with ` #`)"
            ),
            err(
                3,
                1,
                "`evil.example\t443` holds more than one value; write one entry per line \
                 (a comment after an entry starts with ` #`)"
            ),
        ]
    );
    assert_eq!(
        parsed.entries,
        [
            (net("198.51.100.7/32"), 1),
            // Not a value of any kind: the list decides (threat lists refuse text).
            (text("203.0.113.0/24,203.0.113.1"), 4),
            (net("198.51.100.10/32"), 5),
        ]
    );
}

#[test]
fn text_columns_count_characters_and_the_byte_order_mark() {
    let parsed = parse_text("\u{feff}198.51.100.7 x\n\u{3000}\u{3000}198.51.100.8\u{a0}y\n");
    let columns: Vec<(u32, u32)> = parsed.errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(columns, [(1, 2), (2, 3)]);
    assert_eq!(parsed.entries, []);
}

#[test]
fn text_comment_needs_whitespace_before_it() {
    let parsed = parse_text("198.51.100.7#note\nevil.example #note\n#\n # \n");
    assert_eq!(parsed.errors, []);
    assert_eq!(
        parsed.entries,
        [(text("198.51.100.7#note"), 1), (domain("evil.example"), 2)]
    );
}

#[test]
fn text_empty_files() {
    for src in [
        "",
        "\n",
        "\r\n\r\n",
        "\u{feff}",
        "# only a comment",
        "   \n\t\n",
    ] {
        let parsed = parse_text(src);
        assert_eq!(parsed.entries, [], "{src:?}");
        assert_eq!(parsed.errors, [], "{src:?}");
    }
}

#[test]
fn text_lines_without_final_newline_and_lone_cr() {
    let parsed = parse_text("198.51.100.7\n198.51.100.8\r");
    assert_eq!(
        parsed.entries,
        [(net("198.51.100.7/32"), 1), (net("198.51.100.8/32"), 2)]
    );
}

// ---- CSV ----

const CSV_FEED: &str = "ip,note,first_seen\r\n\
                        198.51.100.7,\"scanner, seen twice\",2024-01-02\r\n\
                        # a comment line\r\n\
                        \"203.0.113.0/24\",\"a \"\"quoted\"\" word\",2024-01-03\r\n\
                        ,no indicator,2024-01-04\r\n\
                        \r\n\
                        \x20 evil.example ,,\r\n\
                        2001:db8::7\r\n";

#[test]
fn csv_by_index_with_header() {
    let parsed = parse_csv(CSV_FEED, &Column::Index(0), true);
    assert_eq!(parsed.errors, []);
    assert_eq!(
        parsed.entries,
        [
            (net("198.51.100.7/32"), 2),
            (net("203.0.113.0/24"), 4),
            (domain("evil.example"), 7),
            (net("2001:db8::7/128"), 8),
        ]
    );
}

#[test]
fn csv_rows_too_short_are_errors() {
    let parsed = parse_csv(CSV_FEED, &Column::Index(2), true);
    assert_eq!(
        parsed.entries,
        [
            (text("2024-01-02"), 2),
            (text("2024-01-03"), 4),
            (text("2024-01-04"), 5),
        ]
    );
    assert_eq!(
        parsed.errors,
        [err(
            8,
            1,
            "this row has 1 field, but the list reads column 2 (counted from 0, so each row \
             needs at least 3); fix the row, or choose another column with `column:`"
        )]
    );
}

#[test]
fn csv_by_name_with_quoted_commas_and_a_multi_line_cell() {
    let src = "# exported by a feed\n\
               note,indicator\n\
               \"scanner, then brute force\",198.51.100.7\n\
               \"two\nlines\",evil.example\n\
               \"just a note\"\n\
               x,\"http://Evil.Example/a,b\"\n";
    let parsed = parse_csv(src, &Column::Name("indicator".into()), true);
    assert_eq!(
        parsed.entries,
        [
            (net("198.51.100.7/32"), 3),
            (domain("evil.example"), 5),
            (url("http://evil.example/a,b"), 7),
        ]
    );
    assert_eq!(
        parsed.errors,
        [err(
            6,
            1,
            "this row has 1 field, but the column `indicator` is field 2 of the header; fix \
             the row"
        )]
    );
}

#[test]
fn csv_missing_column_name() {
    let src = "first_seen,indicator,note\n2024-01-02,198.51.100.7,x\n";
    let parsed = parse_csv(src, &Column::Name("indicatr".into()), true);
    assert_eq!(parsed.entries, []);
    assert_eq!(
        parsed.errors,
        [err(
            1,
            1,
            "the header has no column `indicatr`; its columns are `first_seen`, `indicator`, \
             `note`; did you mean `indicator`?"
        )]
    );
    let parsed = parse_csv(src, &Column::Name("address".into()), true);
    assert_eq!(
        parsed.errors,
        [err(
            1,
            1,
            "the header has no column `address`; its columns are `first_seen`, `indicator`, \
             `note`; set `column:` to one of them, or to a column's number (0 is the first)"
        )]
    );
}

#[test]
fn csv_header_after_comments_and_in_other_case() {
    let src = "# feed\n\n First_Seen , IP \n2024-01-02, 198.51.100.7\n";
    let parsed = parse_csv(src, &Column::Name("ip".into()), true);
    assert_eq!(parsed.errors, []);
    assert_eq!(parsed.entries, [(net("198.51.100.7/32"), 4)]);
    let parsed = parse_csv(src, &Column::Name("address".into()), true);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!((parsed.errors[0].line, parsed.errors[0].column), (3, 1));
}

#[test]
fn csv_column_name_without_header() {
    let parsed = parse_csv("198.51.100.7\n", &Column::Name("ip".into()), false);
    assert_eq!(parsed.entries, []);
    assert_eq!(
        parsed.errors,
        [err(
            1,
            1,
            "the column `ip` is chosen by name, but the file is read without a header row; \
             set `header: true`, or choose the column by its number (`column: 0` is the \
             first)"
        )]
    );
}

#[test]
fn csv_without_header_and_with_bom() {
    let src = "\u{feff}198.51.100.7,a\n\"203.0.113.9\",b\n";
    let parsed = parse_csv(src, &Column::Index(0), false);
    assert_eq!(parsed.errors, []);
    assert_eq!(
        parsed.entries,
        [(net("198.51.100.7/32"), 1), (net("203.0.113.9/32"), 2)]
    );
    let src = "\u{feff}ip\n198.51.100.7\n";
    let parsed = parse_csv(src, &Column::Name("ip".into()), true);
    assert_eq!(parsed.errors, []);
    assert_eq!(parsed.entries, [(net("198.51.100.7/32"), 2)]);
}

#[test]
fn csv_empty_files() {
    for src in ["", "\n", "# comment only\n", "ip\n"] {
        let parsed = parse_csv(src, &Column::Name("ip".into()), true);
        assert_eq!(parsed.entries, [], "{src:?}");
        assert_eq!(parsed.errors, [], "{src:?}");
    }
}

// ---- STIX patterns ----

#[test]
fn stix_patterns_read() {
    let cases: [(&str, Vec<Indicator>); 9] = [
        (
            "[ipv4-addr:value = '198.51.100.7']",
            vec![net("198.51.100.7/32")],
        ),
        (
            "[ipv4-addr:value = '198.51.100.0/24' OR ipv6-addr:value = '2001:DB8::1']",
            vec![net("198.51.100.0/24"), net("2001:db8::1/128")],
        ),
        (
            "([domain-name:value = 'Evil.Example'] OR [url:value = 'http://Evil.Example/x']) \
             OR [ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            vec![
                domain("evil.example"),
                url("http://evil.example/x"),
                net("10.0.0.0/8"),
            ],
        ),
        (
            "[ipv4-addr:value IN ('203.0.113.1','203.0.113.2' , '203.0.113.3')]",
            vec![
                net("203.0.113.1/32"),
                net("203.0.113.2/32"),
                net("203.0.113.3/32"),
            ],
        ),
        (
            "[ipv6-addr:value ISSUBSET '2001:db8::/32'] or [ipv4-addr:value='198.51.100.9']",
            vec![net("2001:db8::/32"), net("198.51.100.9/32")],
        ),
        (
            "[url:value = 'http://evil.example/it\\'s\\\\x']",
            vec![url("http://evil.example/it's\\x")],
        ),
        (
            "[(domain-name:value = 'a.example' OR (domain-name:value = 'b.example'))]",
            vec![domain("a.example"), domain("b.example")],
        ),
        (
            "  [ domain-name:value = '*.pool.example' ]  ",
            vec![domain("pool.example")],
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] OR [ipv4-addr:value = '198.51.100.7']",
            vec![net("198.51.100.7/32"), net("198.51.100.7/32")],
        ),
    ];
    for (pattern, values) in cases {
        assert_eq!(read_pattern(pattern), Ok(values), "{pattern}");
    }
}

#[test]
fn stix_patterns_not_supported() {
    let unsupported = |what: &str| Err(PatternError::Unsupported(what.to_string()));
    let cases = [
        (
            "[ipv4-addr:value = '198.51.100.7' AND ipv4-addr:value = '198.51.100.8']",
            unsupported("AND between comparisons"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'evil.example']",
            unsupported("AND between observation expressions"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'a.example']",
            unsupported("FOLLOWEDBY"),
        ),
        (
            "([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [url:value = 'http://a.example'])",
            unsupported("FOLLOWEDBY"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] REPEATS 5 TIMES",
            unsupported("the qualifier REPEATS"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] WITHIN 600 SECONDS",
            unsupported("the qualifier WITHIN"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] START t'2024-01-01T00:00:00Z' \
             STOP t'2024-02-01T00:00:00Z'",
            unsupported("the qualifier START"),
        ),
        (
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            unsupported("`file:hashes.MD5`"),
        ),
        (
            "[file:hashes.'SHA-256' = 'aa']",
            unsupported("`file:hashes.'SHA-256'`"),
        ),
        (
            "[email-message:to_refs[*].value = 'a@b.example']",
            unsupported("`email-message:to_refs[*].value`"),
        ),
        (
            "[network-traffic:dst_ref.value = '198.51.100.7']",
            unsupported("`network-traffic:dst_ref.value`"),
        ),
        (
            "[ipv4-addr:resolves_to_refs[0].value = 'aa:bb:cc:dd:ee:ff']",
            unsupported("`ipv4-addr:resolves_to_refs[0].value`"),
        ),
        (
            "[ipv4-addr:value != '198.51.100.7']",
            unsupported("the operator !="),
        ),
        (
            "[ipv4-addr:value > '198.51.100.7']",
            unsupported("the operator >"),
        ),
        ("[url:value LIKE 'http://%']", unsupported("LIKE")),
        ("[url:value matches '^http']", unsupported("MATCHES")),
        ("[ipv4-addr:value NOT = '198.51.100.7']", unsupported("NOT")),
        (
            "[ipv4-addr:value ISSUPERSET '198.51.100.7']",
            unsupported("ISSUPERSET"),
        ),
        ("[EXISTS ipv4-addr:value]", unsupported("EXISTS")),
        (
            "[domain-name:value ISSUBSET 'example']",
            unsupported("ISSUBSET with domain-name:value"),
        ),
    ];
    for (pattern, expected) in cases {
        assert_eq!(read_pattern(pattern), expected, "{pattern}");
    }
}

#[test]
fn stix_patterns_not_valid() {
    let syntax = |why: &str| Err(PatternError::Syntax(why.to_string()));
    let value = |why: &str| Err(PatternError::Value(why.to_string()));
    let cases = [
        ("", syntax("expected `[`, found the end of the pattern")),
        (
            "ipv4-addr:value = '198.51.100.7'",
            syntax("expected `[`, found `ipv4-addr:value`"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'",
            syntax("expected `]` or OR, found the end of the pattern"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7']]",
            syntax("`]` after the end of the pattern"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7]",
            syntax("a string is not closed with `'`"),
        ),
        (
            "[url:value = 'http://a.example/\\n']",
            syntax(
                "`\\n` is not an escape of a string; write `\\'` for a quote and `\\\\` for \
                 a backslash",
            ),
        ),
        (
            "[ipv4-addr:value = 198]",
            syntax("expected a value in quotes, found `198`"),
        ),
        (
            "[ipv4-addr:value = t'2024-01-01T00:00:00Z']",
            syntax("expected a value in quotes, found a t'…' literal"),
        ),
        (
            "[ipv4-addr:value]",
            syntax("expected =, IN or ISSUBSET after ipv4-addr:value, found `]`"),
        ),
        (
            "[ipv4-addr:value IN '198.51.100.7']",
            syntax("expected `(` after IN, found '198.51.100.7'"),
        ),
        (
            "[ipv4-addr:value IN ('198.51.100.7' '198.51.100.8')]",
            syntax("expected `,` or `)`, found '198.51.100.8'"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] OR",
            syntax("expected `[`, found the end of the pattern"),
        ),
        (
            "[value = 'x']",
            syntax("expected an object path such as ipv4-addr:value, found `value`"),
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] ; drop",
            syntax("`;` cannot appear outside quotes"),
        ),
        (
            "[ipv4-addr:value = '999.1.1.1']",
            value(
                "`999.1.1.1` is not an IPv4 address or network (such as 198.51.100.7 or \
                 198.51.100.0/24)",
            ),
        ),
        (
            "[ipv4-addr:value = '2001:db8::1']",
            value(
                "`2001:db8::1` is not an IPv4 address or network (such as 198.51.100.7 or \
                 198.51.100.0/24)",
            ),
        ),
        (
            "[ipv6-addr:value = '198.51.100.7']",
            value(
                "`198.51.100.7` is not an IPv6 address or network (such as 2001:db8::7 or \
                 2001:db8::/32)",
            ),
        ),
        (
            "[domain-name:value = 'http://evil.example/']",
            value("`http://evil.example/` is not a domain name (such as evil.example)"),
        ),
        (
            "[url:value = 'evil.example']",
            value("`evil.example` is not a URL (such as http://evil.example/payload)"),
        ),
    ];
    for (pattern, expected) in cases {
        assert_eq!(read_pattern(pattern), expected, "{pattern}");
    }
}

#[test]
fn stix_patterns_nested_too_deep_are_refused() {
    let deep = format!(
        "{}[ipv4-addr:value = '198.51.100.7']{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_eq!(
        read_pattern(&deep),
        Err(PatternError::Syntax(
            "parentheses are nested more than 64 deep".into()
        ))
    );
    let deep = format!(
        "[{}ipv4-addr:value = '198.51.100.7'{}]",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(matches!(read_pattern(&deep), Err(PatternError::Syntax(_))));
}

// ---- STIX files ----

/// A bundle as a feed would publish it: an identity, indicators of several kinds
/// (one with AND, one revoked, one of another pattern type, one about file hashes), an
/// observable and a relationship.
const STIX_BUNDLE: &str = r#"{
  "type": "bundle",
  "id": "bundle--6f2b8d0e-3c1a-4b7e-9a55-0d9f4c1e2a10",
  "objects": [
    {
      "type": "identity",
      "spec_version": "2.1",
      "id": "identity--0b6a4a1e-8d2c-4f57-a1b3-3c5e6d7f8091",
      "created": "2024-03-01T00:00:00.000Z",
      "modified": "2024-03-01T00:00:00.000Z",
      "name": "Example feed",
      "identity_class": "organization"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--1",
      "created": "2024-03-01T00:00:00.000Z",
      "modified": "2024-03-01T00:00:00.000Z",
      "name": "C2 server",
      "pattern": "[ipv4-addr:value = '198.51.100.7']",
      "pattern_type": "stix",
      "valid_from": "2024-03-01T00:00:00Z"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--2",
      "pattern": "[ipv4-addr:value = '198.51.100.8' AND domain-name:value = 'c2.example']",
      "pattern_type": "stix",
      "valid_from": "2024-03-01T00:00:00Z"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--3",
      "revoked": true,
      "pattern": "[ipv4-addr:value = '198.51.100.9' AND ipv4-addr:value = '198.51.100.10']",
      "pattern_type": "stix",
      "valid_from": "2024-03-01T00:00:00Z"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--4",
      "pattern": "[domain-name:value = 'Evil.Example.'] OR [url:value = 'http://Evil.Example/a'] OR [ipv6-addr:value ISSUBSET '2001:db8::/32']",
      "valid_from": "2024-03-01T00:00:00Z"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--5",
      "pattern": "alert tcp any any -> 198.51.100.11 any (msg:\"c2\";)",
      "pattern_type": "snort",
      "valid_from": "2024-03-01T00:00:00Z"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--6",
      "pattern": "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
      "pattern_type": "stix",
      "valid_from": "2024-03-01T00:00:00Z"
    },
    {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--7", "value": "203.0.113.0/24"},
    {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--8", "value": "not a domain"},
    {
      "type": "relationship",
      "spec_version": "2.1",
      "id": "relationship--9",
      "relationship_type": "indicates",
      "source_ref": "indicator--1",
      "target_ref": "malware--10"
    },
    {
      "type": "indicator",
      "id": "indicator--11",
      "revoked": false,
      "pattern": "[ipv4-addr:value IN ('203.0.113.20', '203.0.113.21')]"
    }
  ]
}
"#;

#[test]
fn stix_bundle() {
    let parsed = parse_stix(STIX_BUNDLE);
    assert_eq!(
        parsed.entries,
        [
            (net("198.51.100.7/32"), 21),
            (domain("evil.example"), 46),
            (url("http://evil.example/a"), 46),
            (net("2001:db8::/32"), 46),
            (net("203.0.113.0/24"), 65),
            (net("203.0.113.20/32"), 79),
            (net("203.0.113.21/32"), 79),
        ]
    );
    // STIX that a list cannot hold is left out (a warning when the list loads); a
    // broken value is an error.
    assert_eq!(
        parsed.skipped,
        [
            err(
                29,
                18,
                "indicator--2: the pattern uses AND between comparisons, which a list cannot \
                 hold; only comparisons of ipv4-addr, ipv6-addr, domain-name and url values \
                 (with =, IN or ISSUBSET) joined by OR are read, such as [ipv4-addr:value = \
                 '198.51.100.7'] OR [domain-name:value = 'evil.example']; give each value an \
                 indicator of its own, or leave this one out of the list"
            ),
            err(
                54,
                23,
                "indicator--5: pattern_type snort is not supported; only stix patterns are read"
            ),
            err(
                61,
                18,
                "indicator--6: the pattern uses `file:hashes.'SHA-256'`, which a list cannot \
                 hold; only comparisons of ipv4-addr, ipv6-addr, domain-name and url values \
                 (with =, IN or ISSUBSET) joined by OR are read, such as [ipv4-addr:value = \
                 '198.51.100.7'] OR [domain-name:value = 'evil.example']; give each value an \
                 indicator of its own, or leave this one out of the list"
            ),
        ]
    );
    assert_eq!(
        parsed.errors,
        [err(
            66,
            85,
            "domain-name--8: `not a domain` is not a domain name (such as evil.example); \
                 fix the value"
        ),]
    );
}

#[test]
fn stix_single_object_and_list_of_objects() {
    let one = r#"{"type": "indicator", "pattern": "[url:value = 'https://evil.example/x']"}"#;
    let parsed = parse_stix(one);
    assert_eq!(parsed.errors, []);
    assert_eq!(parsed.entries, [(url("https://evil.example/x"), 1)]);

    let list = "[\n  {\"type\": \"indicator\", \"pattern\": \"[domain-name:value = 'a.example']\"},\n  \
                {\"type\": \"ipv6-addr\", \"value\": \"2001:db8::5\"},\n  \
                {\"type\": \"indicator\", \"pattern\": \"[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS\"},\n  \
                {\"type\": \"indicator\"},\n  \
                7\n]";
    let parsed = parse_stix(list);
    assert_eq!(
        parsed.entries,
        [(domain("a.example"), 2), (net("2001:db8::5/128"), 3)]
    );
    let at: Vec<(u32, u32)> = parsed.errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, [(5, 3), (6, 3)]);
    assert_eq!(parsed.skipped.len(), 1);
    assert_eq!((parsed.skipped[0].line, parsed.skipped[0].column), (4, 36));
    assert!(parsed.skipped[0]
        .message
        .starts_with("the pattern uses the qualifier WITHIN, which a list cannot hold;"));
    assert_eq!(
        parsed.errors[0].message,
        "the indicator has no `pattern`; give it one, or leave it out"
    );
    assert_eq!(
        parsed.errors[1].message,
        "this is a number, not a STIX object ({\"type\": …}); a STIX file holds a bundle \
         ({\"type\": \"bundle\", \"objects\": [...]}), one STIX object, or a list of STIX \
         objects"
    );
}

#[test]
fn stix_minified_bundle_has_columns() {
    let src = "\u{feff}{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--a\",\
               \"pattern\":\"[ipv4-addr:value = 'x']\"},{\"type\":\"indicator\",\
               \"pattern\":\"[ipv4-addr:value = '198.51.100.7']\"}]}";
    let parsed = parse_stix(src);
    assert_eq!(parsed.entries, [(net("198.51.100.7/32"), 1)]);
    assert_eq!(
        parsed.errors,
        [err(
            1,
            80,
            "indicator--a: `x` is not an IPv4 address or network (such as 198.51.100.7 or \
             198.51.100.0/24); fix the value in the pattern"
        )]
    );
}

#[test]
fn stix_files_that_are_not_stix() {
    let layout = "a STIX file holds a bundle ({\"type\": \"bundle\", \"objects\": [...]}), one \
                  STIX object, or a list of STIX objects";
    let cases = [
        (
            "{\n  \"type\": \"bundle\",\n  \"objects\": [\n    {\"type\": \"indicator\",}\n  ]\n}",
            err(
                4,
                26,
                &format!(
                    "the file is not valid JSON: key must be a string; fix the JSON; {layout}"
                ),
            ),
        ),
        (
            "",
            err(
                1,
                1,
                &format!(
                    "the file is not valid JSON: EOF while parsing a value; fix the JSON; \
                     {layout}"
                ),
            ),
        ),
        (
            "\u{feff}{\"type\": \"bundle\" \"objects\": []}",
            err(
                1,
                20,
                &format!(
                    "the file is not valid JSON: expected `,` or `}}`; fix the JSON; {layout}"
                ),
            ),
        ),
        (
            "\n\n  \"indicator\"",
            err(
                3,
                3,
                &format!("the file holds a string, not STIX; {layout}"),
            ),
        ),
        (
            "{\"name\": \"x\"}",
            err(
                1,
                1,
                &format!("the object has no `type`, so it is not STIX; {layout}"),
            ),
        ),
        (
            "{\"type\": \"bundle\",\n \"objects\": {}}",
            err(
                2,
                13,
                &format!(
                    "the bundle's `objects` is an object, not a list of STIX objects; {layout}"
                ),
            ),
        ),
        (
            "{\"type\": \"indicator\", \"pattern\": 5}",
            err(
                1,
                34,
                "`pattern` is a number, not a STIX pattern in quotes such as \
                 \"[ipv4-addr:value = '198.51.100.7']\"",
            ),
        ),
        (
            "{\"type\": \"indicator\", \"pattern\": \"[url:value = 'http://a.example']\", \
             \"pattern\": \"x\"}",
            err(
                1,
                78,
                "this STIX object cannot be read: duplicate field `pattern`; fix the object",
            ),
        ),
    ];
    for (src, expected) in cases {
        let parsed = parse_stix(src);
        assert_eq!(parsed.entries, [], "{src}");
        assert_eq!(parsed.errors, [expected], "{src}");
    }
}

#[test]
fn stix_object_of_a_bundle_that_cannot_be_read() {
    let src = "{\"type\": \"bundle\", \"objects\": [\n  {\"type\": \"url\", \"value\": \"http://a.example/\", \
               \"value\": \"x\"},\n  {\"type\": \"url\", \"value\": \"http://b.example/\"}\n]}";
    let parsed = parse_stix(src);
    assert_eq!(parsed.entries, [(url("http://b.example/"), 3)]);
    assert_eq!(
        parsed.errors,
        [err(
            2,
            55,
            "this STIX object cannot be read: duplicate field `value`; fix the object"
        )]
    );
}

#[test]
fn stix_without_indicators() {
    for src in [
        "{\"type\": \"bundle\", \"id\": \"bundle--1\"}",
        "{\"type\": \"bundle\", \"objects\": []}",
        "[]",
        "{\"type\": \"malware\", \"name\": \"x\", \"value\": \"198.51.100.7\"}",
        "[{\"type\": \"indicator\", \"revoked\": true, \"pattern_type\": \"yara\"}]",
        "[{\"type\": \"url\", \"id\": \"url--1\"}, {\"type\": 5}, {}]",
    ] {
        let parsed = parse_stix(src);
        assert_eq!(parsed.entries, [], "{src}");
        assert_eq!(parsed.errors, [], "{src}");
    }
}

// ---- AWS ip-ranges.json ----

const AWS_RANGES: &str = r#"{
  "syncToken": "1709251200",
  "createDate": "2024-03-01-00-00-00",
  "prefixes": [
    {
      "ip_prefix": "3.5.140.0/22",
      "region": "ap-northeast-2",
      "service": "AMAZON",
      "network_border_group": "ap-northeast-2"
    },
    {
      "ip_prefix": "52.94.76.0/22",
      "region": "us-west-2",
      "service": "EC2",
      "network_border_group": "us-west-2"
    },
    {
      "region": "GLOBAL",
      "service": "CLOUDFRONT",
      "network_border_group": "GLOBAL",
      "ip_prefix": "13.32.0.0/15"
    }
  ],
  "ipv6_prefixes": [
    {
      "ipv6_prefix": "2600:1f14::/35",
      "region": "us-west-2",
      "service": "EC2",
      "network_border_group": "us-west-2"
    },
    {
      "ipv6_prefix": "2a05:d07a:a000::/40",
      "region": "eu-south-1",
      "service": "S3",
      "network_border_group": "eu-south-1"
    }
  ]
}
"#;

#[test]
fn aws_ranges() {
    let parsed = parse_aws_ip_ranges(AWS_RANGES);
    assert_eq!(parsed.errors, []);
    assert_eq!(
        parsed.entries,
        [
            (net("3.5.140.0/22"), 6),
            (net("52.94.76.0/22"), 12),
            (net("13.32.0.0/15"), 21),
            (net("2600:1f14::/35"), 26),
            (net("2a05:d07a:a000::/40"), 32),
        ]
    );
}

#[test]
fn aws_ranges_with_bad_prefixes() {
    let src = r#"{
  "syncToken": "1709251200",
  "prefixes": [
    {"ip_prefix": "3.5.140.0/33", "region": "us-east-1", "service": "AMAZON"},
    {"ip_prefix": 3, "region": "us-east-1", "service": "AMAZON"},
    {"region": "us-east-1", "service": "AMAZON"},
    "3.5.140.0/22",
    {"ip_prefix": "2600:1f14::/35", "region": "us-east-1", "service": "AMAZON"},
    {"ip_prefix": "3.5.141.7/22", "region": "us-east-1", "service": "AMAZON"}
  ],
  "ipv6_prefixes": [
    {"ipv6_prefix": "3.5.140.0/22", "region": "us-east-1", "service": "AMAZON"}
  ]
}"#;
    let download = "download it again from https://ip-ranges.amazonaws.com/ip-ranges.json";
    let parsed = parse_aws_ip_ranges(src);
    assert_eq!(parsed.entries, [(net("3.5.140.0/22"), 9)]);
    assert_eq!(
        parsed.errors,
        [
            err(
                4,
                19,
                &format!(
                    "`3.5.140.0/33` is not an IPv4 network such as 3.5.140.0/22; fix \
                     `ip_prefix` or {download}"
                )
            ),
            err(
                5,
                19,
                &format!(
                    "`ip_prefix` is a number, not a network in quotes such as \
                     \"3.5.140.0/22\"; {download}"
                )
            ),
            err(
                6,
                5,
                &format!("this entry of `prefixes` has no `ip_prefix`; {download}")
            ),
            err(
                7,
                5,
                &format!(
                    "this entry of `prefixes` is a string, not an object with `ip_prefix`; \
                     {download}"
                )
            ),
            err(
                8,
                19,
                &format!(
                    "`2600:1f14::/35` is not an IPv4 network such as 3.5.140.0/22; fix \
                     `ip_prefix` or {download}"
                )
            ),
            err(
                12,
                21,
                &format!(
                    "`3.5.140.0/22` is not an IPv6 network such as 2600:1f14::/35; fix \
                     `ipv6_prefix` or {download}"
                )
            ),
        ]
    );
}

#[test]
fn aws_ranges_that_are_not_ranges() {
    let download = "download it again from https://ip-ranges.amazonaws.com/ip-ranges.json";
    let cases = [
        (
            "{\n  \"syncToken\": \"1\"\n  \"prefixes\": []\n}",
            err(
                3,
                3,
                &format!("the file is not valid JSON: expected `,` or `}}`; {download}"),
            ),
        ),
        (
            "",
            err(
                1,
                1,
                &format!("the file is not valid JSON: EOF while parsing a value; {download}"),
            ),
        ),
        (
            "[]",
            err(
                1,
                1,
                &format!(
                    "the file holds a list, not AWS's address ranges (an object with \
                     `prefixes` and `ipv6_prefixes`); {download}"
                ),
            ),
        ),
        (
            "{\"type\": \"bundle\", \"objects\": []}",
            err(
                1,
                1,
                &format!(
                    "the file has neither `prefixes` nor `ipv6_prefixes`, so it is not AWS's \
                     address ranges; {download}"
                ),
            ),
        ),
        (
            "{\"prefixes\": {\"ip_prefix\": \"3.5.140.0/22\"}}",
            err(
                1,
                14,
                &format!("`prefixes` is an object, not a list of prefixes; {download}"),
            ),
        ),
        (
            "{\"prefixes\": [], \"prefixes\": []}",
            err(
                1,
                27,
                &format!(
                    "the file cannot be read as AWS's address ranges: duplicate field \
                     `prefixes`; {download}"
                ),
            ),
        ),
    ];
    for (src, expected) in cases {
        let parsed = parse_aws_ip_ranges(src);
        assert_eq!(parsed.entries, [], "{src}");
        assert_eq!(parsed.errors, [expected], "{src}");
    }
    let parsed = parse_aws_ip_ranges("{\"prefixes\": [], \"ipv6_prefixes\": []}");
    assert_eq!((parsed.entries.len(), parsed.errors.len()), (0, 0));
}

// ---- no panics, and every place is in the file ----

/// Valid files of every format, to mutate.
fn samples() -> Vec<&'static str> {
    vec![
        "\u{feff}# list\r\n198.51.100.7\r\n203.0.113.0/24 # net\n2001:db8::/32\nevil.example.\n",
        CSV_FEED,
        "note,indicator\n\"a,b\",198.51.100.7\n\"two\nlines\",evil.example\n",
        STIX_BUNDLE,
        AWS_RANGES,
    ]
}

/// `src` with each edit applied: at a place (a fraction of the length), delete some
/// characters, or insert some text.
fn mutate(src: &str, edits: &[(f64, usize, String)]) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for (place, delete, insert) in edits {
        let at = ((chars.len() as f64) * place) as usize;
        let at = at.min(chars.len());
        let end = (at + delete).min(chars.len());
        chars.splice(at..end, insert.chars());
    }
    chars.into_iter().collect()
}

/// Runs every parser on `src` and checks what they report is in it.
fn check_all(src: &str) {
    let _ = classify(src);
    assert_within(src, &parse_text(src));
    assert_within(src, &parse_stix(src));
    assert_within(src, &parse_aws_ip_ranges(src));
    for header in [true, false] {
        for column in [
            Column::Index(0),
            Column::Index(3),
            Column::Name("indicator".into()),
        ] {
            assert_within(src, &parse_csv(src, &column, header));
        }
    }
}

proptest! {
    #[test]
    fn any_text_is_read_without_panic(src in "\\PC*") {
        check_all(&src);
    }

    #[test]
    fn list_like_text_is_read_without_panic(
        src in "[0-9a-f:./,#\"'\\[\\]{}() \t\r\n\u{feff}\u{a0}a-zA-Z\\\\-]{0,200}"
    ) {
        check_all(&src);
    }

    #[test]
    fn mutated_files_are_read_without_panic(
        sample in 0usize..5,
        edits in prop::collection::vec(
            (0.0f64..=1.0, 0usize..4, "[\\[\\]{}(),:\"'\\\\#\n\r a-z0-9.\u{feff}é]{0,3}"),
            1..6,
        ),
    ) {
        let src = mutate(samples()[sample], &edits);
        check_all(&src);
    }

    #[test]
    fn the_ipv4_fast_path_agrees_with_the_general_one(
        s in "[0-9]{1,3}(\\.[0-9]{1,3}){0,4}(/[0-9]{0,3})?[./]?"
    ) {
        if let Some(fast) = fast_ipv4_net(s.as_bytes()) {
            prop_assert_eq!(Some(fast), parse_net(&s));
        } else if let Some(general) = parse_net(&s) {
            // Only what is not dotted-quad with a short prefix is left to the general path.
            let (addr, prefix) = s.split_once('/').unwrap_or((&s, "1"));
            prop_assert!(
                addr.split('.').any(|o| o.len() > 1 && o.starts_with('0')) || prefix.len() > 2,
                "{} is {}", s, general
            );
        }
    }

    #[test]
    fn mutated_patterns_are_read_without_panic(
        edits in prop::collection::vec(
            (0.0f64..=1.0, 0usize..4, "[\\[\\]()',:=!<>\\\\ a-zA-Z0-9.*]{0,3}"),
            1..6,
        ),
    ) {
        let pattern = mutate(
            "([ipv4-addr:value = '198.51.100.7' OR url:value IN ('http://a.example', 'b')]) \
             OR [file:hashes.'SHA-256' = 'aa'] WITHIN 5 SECONDS",
            &edits,
        );
        let _ = read_pattern(&pattern);
        let json = serde_json::json!({"type": "indicator", "pattern": pattern}).to_string();
        assert_within(&json, &parse_stix(&json));
    }
}
