//! Probing and look-ups: when a probe runs, and what is known about each
//! running instance beyond its file (its details: models, owner, duplicate,
//! leftover mark).
//!
//! A probe round ([`crate::round::probe_round`], the one `list` runs) is run
//! by [`Probing::probe`], which the watcher calls at three moments only:
//! after the first scan (every entry), after a change (the entries it
//! changed), and at each tick of the probe timer (every entry). The timer is
//! a thread of its own (tao's timers are unreliable on Linux) that sleeps on
//! a channel, without waking, while no instance runs ([`Probing::follow`]).
//! The leftover mark is decided with each round ([`crate::leftover`]);
//! owners and models are slow to learn (a walk over every process's
//! descriptors, an HTTP request that may hang until its timeout), so they
//! are asked for on a look-up thread and merged when they come
//! ([`Probing::take_answers`]): a server that hangs never holds up a change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::entries::{Entries, FolderKey};
use crate::discovery::Instance;
use crate::inspect::{self, AccessKey, Details};
use crate::leftover::Leftovers;
use crate::probe::{Prober, Reply};
use crate::process::{Listeners, Owner};

/// The slow questions about one running instance, asked off the watcher's
/// thread: which process owns its port (unless its connection was refused:
/// nothing listens) and which models it serves.
pub(crate) struct Question {
    instance: Instance,
    ask_owner: bool,
    listeners: Option<Listeners>,
}

/// The answers to a [`Question`], for the instance it was about.
pub(crate) struct Answer {
    id: String,
    port: Option<u16>,
    owner: Option<Option<Owner>>,
    models: inspect::Models,
}

/// Probes, details and the threads that serve them.
pub(crate) struct Probing {
    prober: Prober,
    access_key: Option<AccessKey>,
    /// Models, owners and leftover marks by running instance id, shared
    /// with the snapshots made from them.
    details: Arc<BTreeMap<String, Details>>,
    leftovers: Leftovers,
    /// Tells the timer whether instances run.
    timer: Sender<bool>,
    timer_active: bool,
    /// Where the look-up thread's answers go (started with the first question).
    answers: Arc<dyn Fn(Vec<Answer>) -> bool + Send + Sync>,
    lookups: Option<Sender<Vec<Question>>>,
}

impl Probing {
    /// Starts the probe timer, which calls `tick` every `every` while
    /// instances run; the look-up thread's answers will go to `answers`.
    /// Both return false once the watcher is gone.
    pub(crate) fn start(
        every: Duration,
        access_key: Option<AccessKey>,
        tick: impl Fn() -> bool + Send + 'static,
        answers: impl Fn(Vec<Answer>) -> bool + Send + Sync + 'static,
    ) -> Probing {
        Probing {
            prober: Prober::default(),
            access_key,
            details: Arc::default(),
            leftovers: Leftovers::default(),
            timer: spawn_timer(tick, every),
            timer_active: false,
            answers: Arc::new(answers),
            lookups: None,
        }
    }

    /// The details, to share with a snapshot.
    pub(crate) fn details(&self) -> Arc<BTreeMap<String, Details>> {
        Arc::clone(&self.details)
    }

    /// Keeps the timer ticking while `active` (an instance runs).
    pub(crate) fn follow(&mut self, active: bool) {
        if active != self.timer_active {
            let _ = self.timer.send(active);
            self.timer_active = active;
        }
    }

    /// Runs a probe round over the entries among `keys` that may listen
    /// (all of them with `None`), then refreshes what is known about them:
    /// leftover marks, models, owning processes and duplicates. With `keys`,
    /// nothing is done for the entries not among them.
    pub(crate) fn probe(&mut self, entries: &mut Entries, keys: Option<&BTreeSet<FolderKey>>) {
        let chosen: Vec<(usize, Arc<Instance>)> = match keys {
            None => entries.all().filter(|(_, i)| inspect::may_listen(i)).map(|(b, i)| (b, Arc::clone(i))).collect(),
            Some(keys) => keys
                .iter()
                .filter_map(|k| {
                    entries.get(k.base, &k.id).filter(|i| inspect::may_listen(i)).map(|i| (k.base, Arc::clone(i)))
                })
                .collect(),
        };
        let mut probed: Vec<Instance> = chosen.iter().map(|(_, i)| Instance::clone(i)).collect();
        let round = crate::round::probe_round(&self.prober, &mut probed);
        let now = Instant::now();
        let mut refused = BTreeSet::new();
        for (n, outcome) in &round.outcomes {
            let i = &probed[*n];
            if *outcome == Reply::Refused {
                refused.insert(i.instance_id.clone());
            }
            if let Some(port) = i.port {
                let gone = crate::leftover::no_server(port, outcome, round.listeners.as_ref()).is_ok();
                self.leftovers.observe(&i.instance_id, port, gone, now);
            }
        }
        for ((b, old), i) in chosen.iter().zip(probed) {
            if i != **old {
                entries.set(*b, i);
            }
        }

        // Details of the effective running instances.
        let ids: BTreeSet<String> = match keys {
            None => self
                .details
                .keys()
                .cloned()
                .chain(entries.ranked().iter().filter(|i| i.is_running()).map(|i| i.instance_id.clone()))
                .collect(),
            Some(keys) => keys.iter().map(|k| k.id.clone()).collect(),
        };
        let mut questions = Vec::new();
        let mut owners_changed = false;
        for id in ids {
            let Some(i) = entries.effective(&id).filter(|i| i.is_running()).cloned() else {
                // No longer running: nothing more to know about it.
                if let Some(gone) = Arc::make_mut(&mut self.details).remove(&id) {
                    owners_changed |= gone.owner.is_some();
                }
                self.leftovers.retain(|x| x != id);
                continue;
            };
            let old = self.details.get(&id).cloned().unwrap_or_default();
            // A refused connection means nothing listens: no owner to look
            // for. Instances that did not change wait for the next round.
            let refused_now = refused.contains(&id);
            questions.push(Question {
                instance: Instance::clone(&i),
                ask_owner: i.port.is_some() && !refused_now,
                listeners: round.listeners.clone(),
            });
            let d = Details {
                // Until the look-up answers, what was known stays shown.
                models: old.models.clone(),
                owner: if refused_now { None } else { old.owner.clone() },
                duplicate: old.duplicate,
                leftover: i.port.is_some_and(|p| self.leftovers.is_leftover(&id, p, now)),
            };
            if d != old || !self.details.contains_key(&id) {
                owners_changed |= d.owner != old.owner;
                Arc::make_mut(&mut self.details).insert(id, d);
            }
        }
        if owners_changed {
            self.mark_duplicates();
        }
        if !questions.is_empty() {
            self.ask(questions);
        }
    }

    /// Takes in what the look-up thread found, for instances still running
    /// on the port they were asked about.
    pub(crate) fn take_answers(&mut self, answers: Vec<Answer>, entries: &Entries) {
        let mut owners_changed = false;
        for answer in answers {
            let current = entries.effective(&answer.id);
            if current.is_none_or(|i| !i.is_running() || i.port != answer.port) {
                continue;
            }
            let Some(old) = self.details.get(&answer.id) else { continue };
            let mut d = old.clone();
            if let Some(owner) = answer.owner {
                d.owner = owner;
            }
            d.models = answer.models;
            if d != *old {
                owners_changed |= d.owner != old.owner;
                Arc::make_mut(&mut self.details).insert(answer.id, d);
            }
        }
        if owners_changed {
            self.mark_duplicates();
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
        owner: q.ask_owner.then(|| {
            let port = q.instance.port?;
            match &q.listeners {
                Some(l) => l.owner(port),
                None => crate::process::listener(port),
            }
        }),
        models: inspect::models_for(prober, &q.instance, key),
    }
}

/// The probe timer: while told `true` (instances run) it calls `tick` every
/// `every`; while `false` it blocks without waking. Ends when the watcher does.
fn spawn_timer(tick: impl Fn() -> bool + Send + 'static, every: Duration) -> Sender<bool> {
    let (ctl_tx, ctl_rx) = mpsc::channel::<bool>();
    std::thread::Builder::new()
        .name("probe-timer".into())
        .spawn(move || {
            let mut next_tick: Option<Instant> = None;
            loop {
                let told = match next_tick {
                    Some(at) => match ctl_rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(active) => active,
                        Err(RecvTimeoutError::Timeout) => {
                            if !tick() {
                                return;
                            }
                            next_tick = Some(Instant::now() + every);
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    },
                    None => match ctl_rx.recv() {
                        Ok(active) => active,
                        Err(_) => return,
                    },
                };
                next_tick = match (told, next_tick) {
                    (false, _) => None,
                    (true, Some(at)) => Some(at),
                    (true, None) => Some(Instant::now() + every),
                };
            }
        })
        .expect("spawn the probe timer");
    ctl_tx
}
