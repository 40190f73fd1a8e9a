//! Liveness and look-ups: what is known about each running entry's server
//! beyond its file, learnt from the operating system first and by request
//! only where nothing else can tell ([`super::liveness`] has the rules).
//!
//! - A look ([`Probing::look`]) reads the socket table once. A server seen
//!   for the first time (new listening sockets on the entry's port) gets
//!   its owner and start time (a file older than its listener is a
//!   leftover), an exit watch on its pid, and one `GET /health`; a server
//!   already known gets nothing. Looks come after the first scan, after a
//!   change, when a watched process exits, and when a look is due: a hang
//!   check by `OPTIONS` every `hang_every`, the second of two misses, a
//!   slow table check for servers whose exit cannot be watched and for
//!   entries on whose port nothing listens.
//! - When a person asks ([`Probing::ask_all`]), every running entry gets a
//!   `GET /health`, and models older than a minute are asked again.
//! - Models are asked on a look-up thread ([`Probing::take_answers`]): a
//!   server that hangs never holds up a change.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::entries::{Entries, FolderKey};
use super::liveness::{Server, MODELS_FRESH, SLOW_CHECK};
use crate::discovery::{Instance, LanAccess};
use crate::inspect::{self, AccessKey, Details, Models};
use crate::leftover::{Leftovers, LEFTOVER_AFTER};
use crate::probe::{Prober, Reply};
use crate::process::{ExitWatch, Listeners, Owner};

/// The slow question about one running instance, asked off the watcher's
/// thread: which models it serves.
pub(crate) struct Question {
    instance: Instance,
    /// Known without asking: an open server's list came with the LAN check,
    /// and a guarded one lists nothing without the key.
    known: Option<Models>,
}

/// The answer to a [`Question`], for the instance it was about.
pub(crate) struct Answer {
    id: String,
    port: Option<u16>,
    models: Models,
}

/// How a look treats the servers it finds already known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// Nothing: only new servers are asked who they are.
    NewOnly,
    /// The hang check (`OPTIONS`) for those that are due.
    Due(Instant),
    /// `GET /health` of every one: a person asks.
    Everyone,
}

/// Liveness, details and the threads that serve them.
pub(crate) struct Probing {
    prober: Prober,
    access_key: Option<AccessKey>,
    /// Models, owners and leftover marks by running instance id, shared
    /// with the snapshots made from them.
    details: Arc<BTreeMap<String, Details>>,
    leftovers: Leftovers,
    servers: HashMap<FolderKey, Server>,
    exits: Option<ExitWatch>,
    hang_every: Duration,
    /// Where the look-up thread's answers go (started with the first question).
    answers: Arc<dyn Fn(Vec<Answer>) -> bool + Send + Sync>,
    lookups: Option<Sender<Vec<Question>>>,
}

impl Probing {
    /// Ready to look; `exited` is called (on the exit watch's thread) with
    /// each watched pid that exits, `answers` with the look-up thread's
    /// answers. Both return false once the watcher is gone.
    pub(crate) fn start(
        hang_every: Duration,
        access_key: Option<AccessKey>,
        exited: impl Fn(u32) -> bool + Send + 'static,
        answers: impl Fn(Vec<Answer>) -> bool + Send + Sync + 'static,
    ) -> Probing {
        Probing {
            prober: Prober::default(),
            access_key,
            details: Arc::default(),
            leftovers: Leftovers::default(),
            servers: HashMap::new(),
            exits: ExitWatch::start(exited),
            hang_every,
            answers: Arc::new(answers),
            lookups: None,
        }
    }

    /// The details, to share with a snapshot.
    pub(crate) fn details(&self) -> Arc<BTreeMap<String, Details>> {
        Arc::clone(&self.details)
    }

    /// The next moment a server needs a look, if any does.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        self.servers.values().map(Server::next_due).min()
    }

    /// Looks at the entries among `keys` (all of them with `None`): only
    /// new servers are asked.
    pub(crate) fn look(&mut self, entries: &mut Entries, keys: Option<&BTreeSet<FolderKey>>) {
        self.round(entries, keys, Ask::NewOnly);
    }

    /// A person asks: every running entry's server is asked again.
    pub(crate) fn ask_all(&mut self, entries: &mut Entries) {
        self.round(entries, None, Ask::Everyone);
    }

    /// Process `pid` exited: its entries are looked at now.
    pub(crate) fn exited(&mut self, entries: &mut Entries, pid: u32) {
        let keys: BTreeSet<FolderKey> =
            self.servers.iter().filter(|(_, s)| s.pid == Some(pid)).map(|(k, _)| k.clone()).collect();
        if !keys.is_empty() {
            self.round(entries, Some(&keys), Ask::NewOnly);
        }
    }

    /// The looks that are due at `now`.
    pub(crate) fn due(&mut self, entries: &mut Entries, now: Instant) {
        let keys: BTreeSet<FolderKey> =
            self.servers.iter().filter(|(_, s)| s.next_due() <= now).map(|(k, _)| k.clone()).collect();
        if !keys.is_empty() {
            self.round(entries, Some(&keys), Ask::Due(now));
        }
    }

    /// One look at the entries among `keys` (all with `None`).
    fn round(&mut self, entries: &mut Entries, keys: Option<&BTreeSet<FolderKey>>, ask: Ask) {
        let chosen: Vec<(FolderKey, Arc<Instance>)> = match keys {
            None => entries.all().map(|(b, i)| (FolderKey::new(b, &i.instance_id), Arc::clone(i))).collect(),
            Some(keys) => {
                keys.iter().filter_map(|k| entries.get(k.base, &k.id).map(|i| (k.clone(), Arc::clone(i)))).collect()
            }
        };
        // Entries gone, or no longer running on the port known: forgotten.
        let mut forget: Vec<FolderKey> = match keys {
            None => self.servers.keys().filter(|k| entries.get(k.base, &k.id).is_none()).cloned().collect(),
            Some(keys) => keys.iter().filter(|k| entries.get(k.base, &k.id).is_none()).cloned().collect(),
        };
        let (keys_of, mut probed): (Vec<FolderKey>, Vec<Instance>) =
            chosen.iter().filter(|(_, i)| inspect::may_listen(i)).map(|(k, i)| (k.clone(), Instance::clone(i))).unzip();
        for (k, i) in &chosen {
            if !(i.is_running() && i.port.is_some()) {
                forget.push(k.clone());
            }
        }
        for k in forget {
            self.drop_server(&k);
        }
        let now = Instant::now();
        let table = if probed.is_empty() { None } else { Listeners::read() };
        inspect::check_bindings(&mut probed, table.as_ref());

        // Which servers are new: their owners are found in one walk.
        let mut seen = Vec::new();
        for (n, i) in probed.iter().enumerate() {
            let (true, Some(port)) = (i.is_running(), i.port) else { continue };
            let sockets = table.as_ref().map(|t| t.sockets(port));
            // A server known on another port is another server; its pid is
            // no longer watched for this entry.
            let known = self.servers.get(&keys_of[n]).cloned();
            let fresh = known.as_ref().is_none_or(|s| s.port != port || s.is_new(sockets.as_ref()));
            seen.push((n, port, sockets, fresh, known));
        }
        let mut new_ports: Vec<u16> = seen
            .iter()
            .filter(|(_, _, sockets, fresh, _)| *fresh && sockets.as_ref().is_some_and(|s| !s.is_empty()))
            .map(|&(_, port, ..)| port)
            .collect();
        new_ports.sort_unstable();
        new_ports.dedup();
        let owners = match &table {
            Some(t) if !new_ports.is_empty() => crate::process::listeners_on(t, &new_ports),
            _ => HashMap::new(),
        };

        // What to ask of whom.
        let mut full: Vec<(usize, u16)> = Vec::new();
        let mut hang: Vec<(usize, u16)> = Vec::new();
        for (n, port, sockets, fresh, known) in seen {
            let key = &keys_of[n];
            let mut s = match (fresh, known) {
                (false, Some(s)) => s,
                (_, old) => {
                    if let Some(pid) = old.and_then(|o| o.pid) {
                        self.unwatch(pid, key);
                    }
                    self.first_sight(&probed[n], port, owners.get(&port), sockets.clone(), now)
                }
            };
            s.sockets = sockets;
            let listens = !s.nothing_listens();
            if listens && s.leftover.is_none() {
                match ask {
                    _ if fresh => full.push((n, port)),
                    Ask::Everyone => full.push((n, port)),
                    Ask::Due(at) if s.hang_at <= at => hang.push((n, port)),
                    _ => {}
                }
            }
            // A slow look where the kernel does not report the exit; where
            // nothing listens, the second leftover look (set below).
            s.look_at = match (listens, s.watched) {
                (true, true) => None,
                (true, false) => Some(now + SLOW_CHECK),
                (false, _) => Some(now + LEFTOVER_AFTER),
            };
            self.servers.insert(key.clone(), s);
        }
        let healths = self.prober.health_many(&full);
        let hangs = self.prober.answers_many(&hang);
        let now = Instant::now();
        for ((n, reply), full) in healths.iter().map(|r| (r, true)).chain(hangs.iter().map(|r| (r, false))) {
            if let Some(s) = self.servers.get_mut(&keys_of[*n]) {
                s.heard(reply, full, now, self.hang_every);
            }
        }

        // What the entries show, and the leftover looks.
        let interfaces = if probed.iter().any(|i| i.is_running() && i.exposed) {
            crate::interfaces::read().unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut questions = Vec::new();
        for (n, i) in probed.iter_mut().enumerate() {
            let Some(s) = self.servers.get_mut(&keys_of[n]).filter(|_| i.is_running()) else { continue };
            i.reachable = s.reachable();
            i.not_osaurus.clone_from(&s.not_osaurus);
            i.leftover.clone_from(&s.leftover);
            if s.leftover.is_some() {
                self.leftovers.mark(&i.instance_id, s.port, now);
            } else {
                // The one leftover rule, on what this look found.
                let outcome = match (s.nothing_listens(), s.not_osaurus.is_some()) {
                    (true, _) => Reply::Refused,
                    (false, true) => Reply::Status(0),
                    (false, false) => Reply::Healthy,
                };
                let gone = crate::leftover::no_server(s.port, &outcome, table.as_ref()).is_ok();
                let leftover = self.leftovers.observe(&i.instance_id, s.port, gone, now);
                if s.nothing_listens() {
                    // Once a leftover, nothing more to look for: its own
                    // server would rewrite its file, and a file event looks.
                    s.look_at = (!leftover).then(|| now + LEFTOVER_AFTER);
                }
            }
            if i.exposed {
                inspect::check_addresses(std::slice::from_mut(i), &interfaces);
                let lan_for = Some(i.address.clone());
                if i.reachable == Some(true) && s.lan_for != lan_for {
                    let (access, list) = self.prober.lan_access_and_list(
                        i.address.as_deref(),
                        s.port,
                        &interfaces,
                        inspect::MODELS_LIMIT,
                    );
                    i.lan_access = Some(access);
                    s.lan_for = lan_for;
                    // The LAN's answer is the model list, or says a key is needed.
                    if s.models_at.is_none() && self.access_key.is_none() {
                        let known = match (access, list) {
                            (LanAccess::Open, Some(body)) => Some(inspect::models_in(&body)),
                            (LanAccess::Guarded, _) => Some(Models::NeedsKey),
                            _ => None,
                        };
                        if let Some(known) = known {
                            s.models_at = Some(now);
                            questions.push(Question { instance: i.clone(), known: Some(known) });
                        }
                    }
                } else if i.reachable != Some(true) {
                    i.lan_access = None;
                }
            } else {
                i.lan_access = None;
                s.lan_for = None;
            }
            let stale = s.models_at.is_none_or(|at| ask == Ask::Everyone && now.duration_since(at) >= MODELS_FRESH);
            if i.reachable == Some(true) && stale {
                s.models_at = Some(now);
                questions.push(Question { instance: i.clone(), known: None });
            }
        }
        for (key, i) in keys_of.iter().zip(probed) {
            if entries.get(key.base, &key.id).is_some_and(|old| **old != i) {
                entries.set(key.base, i);
            }
        }
        self.refresh_details(entries, keys, now);
        if !questions.is_empty() {
            self.ask(questions);
        }
    }

    /// The first look at the server on `port` for `key`: its owner, its
    /// start (a file older than it is a leftover), its exit watched.
    fn first_sight(
        &mut self,
        i: &Instance,
        port: u16,
        listener: Option<&crate::process::Listener>,
        sockets: Option<Vec<u64>>,
        now: Instant,
    ) -> Server {
        let mut s = Server::new(port, now, self.hang_every);
        s.sockets = sockets;
        let Some(listener) = listener.filter(|_| !s.nothing_listens()) else {
            return s;
        };
        s.leftover = crate::leftover::older_than_listener(i.updated_at, port, listener);
        s.pid = Some(listener.owner.pid);
        s.watched = self.exits.as_ref().is_some_and(|e| e.watch(listener.owner.pid));
        s.owner = Some(listener.owner.clone());
        s
    }

    /// Forgets the server of `key`.
    fn drop_server(&mut self, key: &FolderKey) {
        if let Some(s) = self.servers.remove(key) {
            if let Some(pid) = s.pid {
                self.unwatch(pid, key);
            }
        }
    }

    /// Stops watching `pid` for `key`, unless another entry's server is it.
    fn unwatch(&self, pid: u32, key: &FolderKey) {
        if !self.servers.iter().any(|(k, s)| k != key && s.pid == Some(pid)) {
            if let Some(e) = &self.exits {
                e.forget(pid);
            }
        }
    }

    /// Brings the details of the effective running instances up to date:
    /// owners, leftover marks, duplicates; drops those no longer running.
    fn refresh_details(&mut self, entries: &Entries, keys: Option<&BTreeSet<FolderKey>>, now: Instant) {
        let ids: BTreeSet<String> = match keys {
            None => self
                .details
                .keys()
                .cloned()
                .chain(entries.ranked().iter().filter(|i| i.is_running()).map(|i| i.instance_id.clone()))
                .collect(),
            Some(keys) => keys.iter().map(|k| k.id.clone()).chain(self.details.keys().cloned()).collect(),
        };
        let mut owners_changed = false;
        for id in ids {
            let Some((base, i)) = entries.effective_in(&id).filter(|(_, i)| i.is_running()) else {
                if let Some(gone) = Arc::make_mut(&mut self.details).remove(&id) {
                    owners_changed |= gone.owner.is_some();
                }
                self.leftovers.retain(|x| x != id);
                continue;
            };
            // By key: a walk over every entry per id would make a first
            // look over many folders quadratic.
            let server = self.servers.get(&FolderKey::new(base, &id));
            let old = self.details.get(&id).cloned().unwrap_or_default();
            let owner = match server {
                Some(s) if s.nothing_listens() => None,
                Some(s) => s.owner.clone(),
                None => old.owner.clone(),
            };
            let not_responding = server.is_some_and(|s| s.not_responding && !s.nothing_listens());
            let d = Details {
                models: if i.reachable == Some(true) { old.models.clone() } else { Models::Unknown },
                owner,
                duplicate: old.duplicate,
                leftover: i.port.is_some_and(|p| self.leftovers.is_leftover(&id, p, now)),
                not_responding,
            };
            if d != old || !self.details.contains_key(&id) {
                owners_changed |= d.owner != old.owner;
                Arc::make_mut(&mut self.details).insert(id, d);
            }
        }
        if owners_changed {
            self.mark_duplicates();
        }
    }

    /// Takes in what the look-up thread found, for instances still running
    /// on the port they were asked about.
    pub(crate) fn take_answers(&mut self, answers: Vec<Answer>, entries: &Entries) {
        for answer in answers {
            let current = entries.effective(&answer.id);
            if current.is_none_or(|i| !i.is_running() || i.port != answer.port || i.reachable != Some(true)) {
                continue;
            }
            let Some(old) = self.details.get(&answer.id) else { continue };
            if old.models != answer.models {
                let mut d = old.clone();
                d.models = answer.models;
                Arc::make_mut(&mut self.details).insert(answer.id, d);
            }
        }
    }

    /// Marks the instances served by different processes of one program.
    fn mark_duplicates(&mut self) {
        let owners: BTreeMap<String, Owner> =
            self.details.iter().filter_map(|(id, d)| Some((id.clone(), d.owner.clone()?))).collect();
        let duplicates = inspect::duplicates(&owners);
        if self.details.iter().any(|(id, d)| d.duplicate != duplicates.contains(id)) {
            for (id, d) in Arc::make_mut(&mut self.details).iter_mut() {
                d.duplicate = duplicates.contains(id);
            }
        }
    }

    /// Hands `questions` to the look-up thread, starting it the first time.
    fn ask(&mut self, questions: Vec<Question>) {
        let lookups = self.lookups.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<Vec<Question>>();
            let answers = Arc::clone(&self.answers);
            let key = self.access_key.clone();
            std::thread::Builder::new()
                .name("lookups".into())
                .spawn(move || {
                    let prober = Prober::default();
                    while let Ok(round) = rx.recv() {
                        let found = round.into_iter().map(|q| answer(&prober, q, key.as_ref())).collect();
                        if !answers(found) {
                            return;
                        }
                    }
                })
                .expect("spawn the look-up thread");
            tx
        });
        let _ = lookups.send(questions);
    }
}

/// Answers one question (on the look-up thread).
fn answer(prober: &Prober, q: Question, key: Option<&AccessKey>) -> Answer {
    Answer {
        id: q.instance.instance_id.clone(),
        port: q.instance.port,
        models: q.known.unwrap_or_else(|| inspect::models_for(prober, &q.instance, key)),
    }
}
