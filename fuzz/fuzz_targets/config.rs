//! Arbitrary bytes as a `configuration.json`: `config::parse` must never
//! panic, and what it returns must keep the invariants every consumer relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osaurus_tray::discovery::config::{self, Origin};
use osaurus_tray::discovery::State;

fuzz_target!(|data: &[u8]| {
    let origin = Origin { instance_id: "FUZZ".into(), dir: "/rt/FUZZ".into() };
    let i = config::parse(data, origin, || None);

    assert_eq!(i.instance_id, "FUZZ", "the folder's name is the id");
    match i.state {
        State::Running => {
            let port = i.port.expect("running without a port");
            let url = i.url.as_deref().expect("running without a url");
            assert!(url.starts_with("http://") || url.starts_with("https://"), "url {url:?}");
            assert!(!url.chars().any(|c| c.is_control() || c.is_whitespace()), "url {url:?}");
            let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("url {url:?} does not parse: {e}"));
            assert_eq!(parsed.port_or_known_default(), Some(port), "url {url:?} disagrees with port {port}");
            assert!(parsed.username().is_empty() && parsed.password().is_none(), "url {url:?} has user info");
        }
        _ => assert_eq!(i.url, None, "{:?} with a url", i.state),
    }
    if matches!(i.state, State::Invalid | State::Unknown) {
        assert!(i.problem.is_some(), "{:?} without a problem", i.state);
    }
    if i.expose_to_network == Some(true) {
        assert!(i.exposed);
    }
    serde_json::to_string(&i).expect("an instance always serialises");
});
