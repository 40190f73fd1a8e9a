//! What is known about each running instance beyond its file: the models it
//! serves, the process that listens on its port, whether it is a duplicate,
//! and whether it is a crash leftover (decided by [`crate::leftover`]).
//!
//! The decisions ([`parse_models`], [`duplicates`], [`apply_bindings`]) are plain
//! functions on plain data; [`fetch_models`] is the one network call
//! (loopback only, through [`Prober`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::discovery::{Instance, LanAccess};
use crate::interfaces::{self, Interface};
pub use crate::key::AccessKey;
use crate::probe::{Prober, Reply};
use crate::process::Owner;

/// The most model ids kept for one instance.
pub const MAX_MODELS: usize = 200;
/// The largest `/v1/models` answer read.
pub(crate) const MODELS_LIMIT: u64 = 1024 * 1024;

/// The models an instance serves, as far as is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Models {
    /// Not asked (not reachable, or not probed).
    #[default]
    Unknown,
    /// The ids `/v1/models` listed.
    Listed(Vec<String>),
    /// The server answered 401: it lists its models only with an access key.
    NeedsKey,
    /// The server answered, but not with a model list; the reason.
    Unavailable(String),
}

/// Everything known about one instance beyond its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// Its models.
    pub models: Models,
    /// The process listening on its port, when it can be determined.
    pub owner: Option<Owner>,
    /// Another running instance is served by a different process of the
    /// same executable.
    pub duplicate: bool,
    /// Its file says running, but no server was on its port at two looks
    /// at least [`crate::leftover::LEFTOVER_AFTER`] apart, or its file is
    /// older than the process listening there.
    pub leftover: bool,
    /// Its server still listens, but missed two checks at least
    /// five seconds apart.
    pub not_responding: bool,
}

/// Reads the ids out of an OpenAI-style `{"object":"list","data":[{"id":…}]}`.
/// An id that is empty or holds a character that must not reach a person
/// as it is ([`crate::text::is_unsafe`]: a line break, an escape, a bidi
/// control) is left out: ids are copied and printed as they are.
pub fn parse_models(body: &str) -> Result<Vec<String>, String> {
    parse_models_up_to(body, MAX_MODELS)
}

/// [`parse_models`], keeping at most `max` ids (`usize::MAX`: every one,
/// as the `models` command prints them).
pub fn parse_models_up_to(body: &str, max: usize) -> Result<Vec<String>, String> {
    parse_models_except(body, max, |_| false)
}

/// [`parse_models_up_to`], leaving out the ids `hidden` says to.
fn parse_models_except(body: &str, max: usize, hidden: impl Fn(&str) -> bool) -> Result<Vec<String>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
    let data = v.get("data").and_then(|d| d.as_array()).ok_or("no \"data\" list")?;
    Ok(data
        .iter()
        .filter_map(|m| m.get("id").and_then(|id| id.as_str()))
        .filter(|id| !id.is_empty() && crate::text::reads_as_written(id) && !hidden(id))
        .take(max)
        .map(str::to_owned)
        .collect())
}

/// `GET /v1/models` on 127.0.0.1:`port`, with the access key if one is
/// given. A 401 means an access key is needed (or the one given is wrong).
pub fn fetch_models(prober: &Prober, port: u16, key: Option<&AccessKey>) -> Models {
    fetch_models_up_to(prober, port, key, MAX_MODELS)
}

/// [`fetch_models`], keeping at most `max` ids. An id that holds the key
/// (a server that echoes it back) is left out: the key is never printed.
pub fn fetch_models_up_to(prober: &Prober, port: u16, key: Option<&AccessKey>, max: usize) -> Models {
    match prober.models(port, key, MODELS_LIMIT) {
        Ok((200, body)) => match parse_models_except(&body, max, |id| key.is_some_and(|k| k.appears_in(id))) {
            Ok(ids) => Models::Listed(ids),
            Err(why) => Models::Unavailable(format!("the model list is {why}")),
        },
        Ok((401, _)) => Models::NeedsKey,
        Ok((status, _)) => Models::Unavailable(format!("the server answered {status}")),
        Err(Reply::TooLarge(limit)) => {
            Models::Unavailable(format!("the model list is larger than {} KiB, more than is read", limit / 1024))
        }
        Err(outcome) => Models::Unavailable(format!("port {port} {outcome}")),
    }
}

/// The models an open server's `/v1/models` answer lists (the body of a 200).
pub fn models_in(body: &str) -> Models {
    match parse_models(body) {
        Ok(ids) => Models::Listed(ids),
        Err(why) => Models::Unavailable(format!("the model list is {why}")),
    }
}

/// The models to show for `instance`: asked (on 127.0.0.1) only when it is
/// reachable. Whether a key is needed is what the server answers, exposed or
/// not: Osaurus before 0.12.5 lists its models to anyone.
/// The key goes only to an instance whose `/health` answered as Osaurus.
pub fn models_for(prober: &Prober, instance: &Instance, key: Option<&AccessKey>) -> Models {
    match (instance.reachable, instance.port) {
        (Some(true), Some(port)) => fetch_models(prober, port, key),
        _ => Models::Unknown,
    }
}

/// The instances served by different processes of the same executable as
/// another running instance.
pub fn duplicates(owners: &BTreeMap<String, Owner>) -> BTreeSet<String> {
    let mut pids_by_name: HashMap<&str, BTreeSet<u32>> = HashMap::new();
    for owner in owners.values() {
        pids_by_name.entry(owner.name.as_str()).or_default().insert(owner.pid);
    }
    owners
        .iter()
        .filter(|(_, o)| pids_by_name.get(o.name.as_str()).is_some_and(|pids| pids.len() > 1))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Corrects `instance.exposed` with what the OS says its server listens on:
/// a server bound to `0.0.0.0`, `::` or any non-loopback address is exposed,
/// whatever its file says. Returns true when the file was contradicted.
pub fn apply_bindings(instance: &mut Instance, listening: &[std::net::IpAddr]) -> bool {
    let public: Vec<String> = listening.iter().filter(|a| !a.is_loopback()).map(|a| a.to_string()).collect();
    if public.is_empty() || instance.exposed {
        return false;
    }
    instance.exposed = true;
    instance.loopback_url = instance.port.map(crate::discovery::config::loopback_url);
    let note = format!("the server listens on {} although the file does not say it is exposed", public.join(", "));
    instance.problem = Some(match instance.problem.take() {
        Some(p) => format!("{p}; {note}"),
        None => note,
    });
    true
}

/// Applies [`apply_bindings`] to every instance that names a port and may
/// have a server behind it (running, starting, restarting), with what the
/// OS says listens (read once for all of them): a server already bound to
/// `0.0.0.0` while its file still says `starting` is exposed too.
pub fn check_bindings(instances: &mut [Instance], listeners: Option<&crate::process::Listeners>) {
    let Some(listeners) = listeners else { return };
    for i in instances.iter_mut().filter(|i| may_listen(i)) {
        if let Some(port) = i.port {
            apply_bindings(i, &listeners.addresses(port));
        }
    }
}

/// True for an entry whose server may already listen on its port.
pub fn may_listen(i: &Instance) -> bool {
    use crate::discovery::State;
    i.port.is_some() && matches!(i.state, State::Running | State::Starting | State::Restarting)
}

/// For every running exposed instance: whether its address is still one of
/// `interfaces` and, when it answers as Osaurus, what a client on the LAN
/// gets (asked through [`interfaces::lan_address`], never another host).
/// Each LAN address and port is asked once, however many files name them.
pub fn check_exposure(prober: &Prober, instances: &mut [Instance], interfaces: &[Interface]) {
    check_addresses(instances, interfaces);
    let mut asked: HashMap<(Option<std::net::Ipv4Addr>, u16), LanAccess> = HashMap::new();
    for i in instances.iter_mut().filter(|i| i.is_running() && i.exposed) {
        i.lan_access = match (i.reachable, i.port) {
            (Some(true), Some(port)) => {
                let via = interfaces::lan_address(i.address.as_deref(), interfaces);
                Some(
                    *asked
                        .entry((via, port))
                        .or_insert_with(|| prober.lan_access(i.address.as_deref(), port, interfaces)),
                )
            }
            _ => None,
        };
    }
}

/// For every running exposed instance: whether its address is still one of
/// `interfaces` (no network; see [`interfaces::is_local`]).
pub fn check_addresses(instances: &mut [Instance], interfaces: &[Interface]) {
    for i in instances.iter_mut().filter(|i| i.is_running() && i.exposed) {
        i.address_on_this_machine = i.address.as_deref().and_then(|a| interfaces::is_local(a, interfaces));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_are_read_from_the_openai_list() {
        let body = r#"{"object":"list","data":[{"id":"llama","object":"model"},{"id":"qwen"},{"nope":1}]}"#;
        assert_eq!(parse_models(body).unwrap(), ["llama", "qwen"]);
        assert!(parse_models("{}").is_err());
        assert!(parse_models("<html>").is_err());
        let many = serde_json::json!({"data": (0..500).map(|n| serde_json::json!({"id": format!("m{n}")})).collect::<Vec<_>>()});
        assert_eq!(parse_models(&many.to_string()).unwrap().len(), MAX_MODELS);
    }

    #[test]
    fn ids_that_would_reach_a_terminal_or_clipboard_as_something_else_are_left_out() {
        let body = r#"{"data":[{"id":"llama"},{"id":"rm -rf ~\n"},{"id":"\u001b]52;c;ZXZpbA==\u0007"},{"id":"a\u202eb"},{"id":""},{"id":"qwen 2"}]}"#;
        assert_eq!(parse_models(body).unwrap(), ["llama", "qwen 2"]);
    }

    fn owner(pid: u32, name: &str) -> Owner {
        Owner { pid, name: name.into() }
    }

    #[test]
    fn duplicates_are_different_processes_of_one_executable() {
        let mut owners = BTreeMap::new();
        owners.insert("A".to_owned(), owner(10, "osaurus"));
        owners.insert("B".to_owned(), owner(20, "osaurus"));
        owners.insert("C".to_owned(), owner(30, "python3"));
        assert_eq!(duplicates(&owners), ["A".to_owned(), "B".to_owned()].into_iter().collect());
        // One process serving two instances (a moved port) is not a duplicate.
        owners.insert("B".to_owned(), owner(10, "osaurus"));
        assert!(duplicates(&owners).is_empty());
    }

    #[test]
    fn a_public_binding_makes_an_instance_exposed_whatever_its_file_says() {
        let mut i = Instance::invalid("A".into(), "/rt/A".into(), "x");
        i.problem = None;
        assert!(!apply_bindings(&mut i, &["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]));
        assert!(!i.exposed && i.problem.is_none());
        assert!(apply_bindings(&mut i, &["0.0.0.0".parse().unwrap()]));
        assert!(i.exposed);
        assert!(i.problem.as_deref().unwrap().contains("listens on 0.0.0.0"));
        // Already exposed by its file: nothing to correct.
        assert!(!apply_bindings(&mut i, &["::".parse().unwrap()]));
    }
}
