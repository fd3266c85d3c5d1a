//! Public API behaviour: errors, limits, selectors, extraction for metric filters.

use ow_filter_pattern::{
    ExtractedValue, FilterPattern, LogMessage, PatternError, PatternFamily, PatternOptions,
    SyntaxErrorKind, ValueSelector,
};

#[test]
fn families_are_chosen_by_the_first_non_blank_character() {
    let fam = |p: &str| FilterPattern::parse(p).expect(p).family();
    assert_eq!(fam(""), PatternFamily::MatchAll);
    assert_eq!(fam("   "), PatternFamily::MatchAll);
    assert_eq!(fam("  { $.a = 1 }"), PatternFamily::Json);
    assert_eq!(fam("[a, b]"), PatternFamily::SpaceDelimited);
    assert_eq!(fam(" %ab% "), PatternFamily::Regex);
    assert_eq!(fam("ERROR"), PatternFamily::Terms);
}

#[test]
fn length_limit_is_1024_characters_by_default() {
    let ok = "a".repeat(1024);
    assert!(FilterPattern::parse(&ok).is_ok());
    let too_long = "a".repeat(1025);
    assert_eq!(
        FilterPattern::parse(&too_long).unwrap_err(),
        PatternError::TooLong {
            len: 1025,
            max: 1024
        }
    );
    // Characters, not bytes.
    let multibyte = format!("\"{}\"", "é".repeat(1022));
    assert!(FilterPattern::parse(&multibyte).is_ok());
    let opts = PatternOptions {
        max_length_chars: 10,
        ..PatternOptions::default()
    };
    assert!(FilterPattern::parse_with("ERROR WARNING", &opts).is_err());
}

#[test]
fn errors_carry_byte_positions_and_aws_type() {
    let e = FilterPattern::parse("ERROR user-agent").unwrap_err();
    assert_eq!(e.position(), Some(6));
    assert_eq!(e.aws_error_type(), "InvalidParameterException");
    assert!(matches!(
        e,
        PatternError::Syntax { kind: SyntaxErrorKind::InvalidTermCharacter { ref term }, .. } if term == "user-agent"
    ));
    let e = FilterPattern::parse("{ $.a == 1 }").unwrap_err();
    assert_eq!(e.position(), Some(6));
    let e = FilterPattern::parse("%ab!c%").unwrap_err();
    assert_eq!(e.position(), Some(3));
    let e = FilterPattern::parse("[a, ..., b, ...]").unwrap_err();
    assert_eq!(e.position(), Some(12));
    let e = FilterPattern::parse("{ $.a = %x% || $.b = %y% || $.c = %z% }").unwrap_err();
    assert_eq!(e, PatternError::TooManyRegex { count: 3, max: 2 });
    assert!(e.to_string().starts_with("Invalid filter pattern"));
}

#[test]
fn regex_count_feeds_the_per_log_group_quota() {
    assert_eq!(FilterPattern::parse("%a%").unwrap().regex_count(), 1);
    assert_eq!(
        FilterPattern::parse("{ $.a = %x% && $.b = %y% }")
            .unwrap()
            .regex_count(),
        2
    );
    assert_eq!(
        FilterPattern::parse("[a = %x%, b]").unwrap().regex_count(),
        1
    );
    assert_eq!(FilterPattern::parse("ERROR").unwrap().regex_count(), 0);
}

#[test]
fn value_selectors() {
    assert_eq!(
        ValueSelector::parse("$.a.b[0]").unwrap().to_string(),
        "$.a.b[0]"
    );
    assert_eq!(
        ValueSelector::parse("$bytes").unwrap(),
        ValueSelector::Field("bytes".into())
    );
    for bad in ["", "1", "$", "bytes", "$.", "$by tes", "$.a[*]"] {
        assert!(ValueSelector::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn extraction_for_metric_values_and_dimensions() {
    // JSON: metricValue $.latency (not in the pattern), dimension $.service.
    let p = FilterPattern::parse("{ $.status >= 500 }").unwrap();
    let msg = r#"{"status":503,"latency":12.5,"service":"api","tags":{"a":1},"ok":false}"#;
    let x = p.extract(msg).expect("matches");
    assert_eq!(
        x.values(),
        &[("$.status".to_string(), ExtractedValue::Number(503.into()))]
    );
    let get = |s: &str| x.get(&ValueSelector::parse(s).unwrap());
    assert_eq!(get("$.latency").and_then(|v| v.as_f64()), Some(12.5));
    assert_eq!(
        get("$.service").map(|v| v.to_string()).as_deref(),
        Some("api")
    );
    assert_eq!(
        get("$.service").and_then(|v| v.as_f64()),
        None,
        "not numeric: no data point"
    );
    assert_eq!(get("$.tags"), None, "objects are not values");
    assert_eq!(get("$.missing"), None);
    assert_eq!(get("$.ok"), Some(ExtractedValue::Bool(false)));
    assert_eq!(
        get("$status"),
        None,
        "space-delimited names do not resolve in JSON"
    );
    assert!(p.extract(r#"{"status":200}"#).is_none());

    // Space-delimited: $name values.
    let p = FilterPattern::parse("[ip, user, ..., status_code, bytes]").unwrap();
    assert_eq!(p.field_names(), ["ip", "user", "status_code", "bytes"]);
    let x = p.extract("10.0.0.1 frank GET /a 404 1534").unwrap();
    let get = |s: &str| x.get(&ValueSelector::parse(s).unwrap());
    assert_eq!(get("$bytes").and_then(|v| v.as_f64()), Some(1534.0));
    assert_eq!(
        get("$user").map(|v| v.to_string()).as_deref(),
        Some("frank")
    );
    assert_eq!(get("$nope"), None);

    // Terms and regex extract nothing but still report the match.
    let x = FilterPattern::parse("ERROR")
        .unwrap()
        .extract("ERROR x")
        .unwrap();
    assert!(x.values().is_empty());
}

#[test]
fn one_json_parse_serves_many_filters() {
    let msg = LogMessage::new(r#"{"a":1,"b":"x"}"#);
    let a = FilterPattern::parse("{ $.a = 1 }").unwrap();
    let b = FilterPattern::parse("{ $.b = x }").unwrap();
    let t = FilterPattern::parse("\"b\"").unwrap();
    assert!(a.matches_message(&msg) && b.matches_message(&msg) && t.matches_message(&msg));
    let json = msg.json().expect("parsed");
    assert!(std::ptr::eq(json, msg.json().expect("cached")));
    assert!(LogMessage::new("not json").json().is_none());
    assert_eq!(a.extract_message(&msg).map(|x| x.values().len()), Some(1));
}

#[test]
fn display_and_from_str_keep_the_source_text() {
    let src = "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)}";
    let p: FilterPattern = src.parse().unwrap();
    assert_eq!(p.to_string(), src);
    assert_eq!(p.as_str(), src);
}

#[test]
fn patterns_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FilterPattern>();
    assert_send_sync::<ow_filter_pattern::Extracted>();
    let p = std::sync::Arc::new(FilterPattern::parse("{ $.a > 1 }").unwrap());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let p = p.clone();
            std::thread::spawn(move || p.matches(&format!("{{\"a\":{i}}}")))
        })
        .collect();
    let results: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results, [false, false]);
    assert!(p.matches("{\"a\":2}"));
}
