//! Small pure functions: @ptr encoding, number/time rendering, glob patterns, unnest elements.

use ow_query::{parse, ptr, render};

#[test]
fn ptr_round_trip_with_colons_in_group() {
    let p = ptr::encode("/aws/x:y", 42);
    assert_eq!(ptr::decode(&p), Some(("/aws/x:y".to_string(), 42)));
    assert_eq!(ptr::decode("not-a-ptr"), None);
    assert_eq!(
        ptr::decode(&ptr::encode("", 12)),
        None,
        "an empty group is not a pointer"
    );
}

#[test]
fn numbers_and_times_render_like_get_query_results() {
    assert_eq!(render::number(3.0).as_deref(), Some("3"));
    assert_eq!(render::number(-2.0).as_deref(), Some("-2"));
    assert_eq!(render::number(-0.0).as_deref(), Some("0"));
    assert_eq!(render::number(2.5).as_deref(), Some("2.5"));
    assert_eq!(
        render::number(0.1 + 0.2).as_deref(),
        Some("0.30000000000000004")
    );
    assert_eq!(render::number(f64::NAN), None);
    assert_eq!(
        render::timestamp_ms(1_688_989_338_000).as_deref(),
        Some("2023-07-10 11:42:18.000")
    );
    assert_eq!(
        render::timestamp_ms_rfc3339(1_688_989_338_000).as_deref(),
        Some("2023-07-10T11:42:18Z")
    );
    assert_eq!(
        render::timestamp_ms_rfc3339(1_688_989_338_042).as_deref(),
        Some("2023-07-10T11:42:18.042Z")
    );
    assert_eq!(
        render::timestamp_ms_rfc3339(-62_167_219_200_001).as_deref(),
        Some("-0001-12-31T23:59:59.999Z")
    );
    assert_eq!(render::timestamp_ms_rfc3339(i64::MAX), None);
}

#[test]
fn glob_is_lazy_except_last_and_unanchored() {
    let re = parse::glob_regex("[*] *").unwrap();
    let c = re.captures("x [ERROR] disk [full]").unwrap();
    assert_eq!(&c[1], "ERROR");
    assert_eq!(&c[2], "disk [full]");
    let re = parse::glob_regex("user=* id=*;").unwrap();
    let c = re.captures("a user=bob id=7; tail").unwrap();
    assert_eq!((&c[1], &c[2]), ("bob", "7"));
    assert!(
        parse::glob_regex("a.b*")
            .unwrap()
            .captures("axb1")
            .is_none(),
        "`.` is literal"
    );
}

#[test]
fn unnest_elements_are_json_texts() {
    assert_eq!(
        parse::json_elements(r#"[1,"a",{"k":2},null]"#, false),
        Some(vec![
            Some("1".into()),
            Some(r#""a""#.into()),
            Some(r#"{"k":2}"#.into()),
            None
        ])
    );
    assert_eq!(parse::json_elements("plain", false), None);
    assert_eq!(
        parse::json_elements("plain", true),
        Some(vec![Some(r#""plain""#.into())])
    );
    assert_eq!(parse::json_elements("null", true), None);
}
