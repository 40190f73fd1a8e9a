//! Property tests: whatever bytes sit in configuration.json, parsing never
//! panics and the result keeps its promises.

use std::path::PathBuf;

use osaurus_tray::discovery::config::{parse, Origin};
use osaurus_tray::discovery::State;
use proptest::prelude::*;

fn origin() -> Origin {
    Origin { instance_id: "ID".into(), dir: PathBuf::from("/rt/ID") }
}

fn check(bytes: &[u8]) {
    let i = parse(bytes, origin(), || None);
    // A running entry always has a port and an http(s) URL; others have no URL
    // unless they are starting/restarting/unknown (which never have one either).
    if i.state == State::Running {
        assert!(i.port.is_some());
        let url = i.url.as_deref().unwrap();
        assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
    } else {
        assert!(i.url.is_none());
    }
    if matches!(i.state, State::Invalid | State::Unknown) {
        assert!(i.problem.is_some());
    }
    serde_json::to_string(&i).unwrap();
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,40}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("running"),
            Just("starting"),
            Just("restarting"),
            Just("127.0.0.1"),
            Just("::1"),
            Just("http://127.0.0.1:1337")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array).boxed()
    })
}

fn config_object() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("instanceId".to_owned()),
        Just("updatedAt".to_owned()),
        Just("health".to_owned()),
        Just("port".to_owned()),
        Just("address".to_owned()),
        Just("url".to_owned()),
        Just("exposeToNetwork".to_owned()),
        ".{0,8}",
    ];
    prop::collection::btree_map(key, json_value(), 0..8)
        .prop_map(|m| serde_json::to_vec(&serde_json::Value::Object(m.into_iter().collect())).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn arbitrary_objects_with_the_real_keys_never_panic(bytes in config_object()) {
        check(&bytes);
    }

    #[test]
    fn any_valid_port_and_loopback_address_give_a_running_instance(port in 1u16.., last in 1u8..255) {
        let json = format!(r#"{{"health":"running","port":{port},"address":"127.0.0.{last}"}}"#);
        let i = parse(json.as_bytes(), origin(), || None);
        prop_assert_eq!(i.state, State::Running);
        prop_assert_eq!(i.url, Some(format!("http://127.0.0.{last}:{port}")));
        prop_assert!(!i.exposed);
    }
}
