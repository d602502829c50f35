//! The lifecycle sweep's decisions: from the clusters (tags inline) and the time, which
//! clones to announce as expiring and which to delete because they expired. Pure: the
//! sweep workflow (src/run/workflows/sweep.rs) reads the inventory once and carries the plan out.
//!
//! A clone's expiry is its `expires-at` tag. A `protected-until` tag later than that moves
//! the effective expiry to the end of the protection: a protected clone is never expired
//! before its protection ends, and it is announced before that new time instead.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;

use aurora_clone_model::ClusterInfo;
use aurora_clone_model::tags::IdleAction;
use aurora_clone_model::tags::{self, Role};
use aurora_clone_model::time::{format_duration, format_timestamp, parse_timestamp};

/// A clone's lifecycle tags, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloneLifecycle {
    pub expires_at: Option<DateTime<Utc>>,
    pub protected_until: Option<DateTime<Utc>>,
    /// The expiry the `clone-expiring` event was last sent for (the tag's text).
    pub notice_sent_for: Option<String>,
    /// Tag values that do not read as timestamps: (tag, value).
    pub unreadable: Vec<(String, String)>,
}

impl CloneLifecycle {
    /// Reads the lifecycle tags of a cluster.
    pub fn of(cluster: &ClusterInfo) -> CloneLifecycle {
        let mut lifecycle = CloneLifecycle {
            notice_sent_for: cluster.tag(tags::EXPIRING_NOTICE).map(str::to_string),
            ..CloneLifecycle::default()
        };
        for (key, slot) in [
            (tags::EXPIRES_AT, &mut lifecycle.expires_at),
            (tags::PROTECTED_UNTIL, &mut lifecycle.protected_until),
        ] {
            if let Some(text) = cluster.tag(key) {
                match parse_timestamp(text) {
                    Ok(time) => *slot = Some(time),
                    Err(_) => lifecycle
                        .unreadable
                        .push((key.to_string(), text.to_string())),
                }
            }
        }
        lifecycle
    }

    /// When the clone is deleted: its expiry, or the end of its protection if later.
    pub fn effective_expiry(&self) -> Option<DateTime<Utc>> {
        let expires_at = self.expires_at?;
        Some(match self.protected_until {
            Some(until) if until > expires_at => until,
            _ => expires_at,
        })
    }

    /// Whether the clone is protected at `now`.
    pub fn is_protected(&self, now: DateTime<Utc>) -> bool {
        self.protected_until.is_some_and(|until| until > now)
    }
}

/// What the sweep does to one clone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum SweepAction {
    /// Send `clone-expiring` (once for this expiry) and record it in a tag.
    Warn {
        #[serde(rename = "expiresAt")]
        expires_at: DateTime<Utc>,
    },
    /// Delete the clone with its secret, grants and disposable key; send `clone-expired`.
    Expire {
        #[serde(rename = "expiresAt")]
        expires_at: DateTime<Utc>,
    },
    /// Expired, but protected until the given time: left alone.
    Protected {
        #[serde(rename = "expiresAt")]
        expires_at: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// A lifecycle tag cannot be read: nothing is done, the operator is told.
    Unreadable { tag: String, value: String },
    /// No connections for its whole `IdleAfter`: stop it (StopDBCluster), send
    /// `clone-stopped`.
    Stop {
        #[serde(rename = "idleAfter")]
        idle_after: String,
    },
    /// No connections for its whole `IdleAfter`, and `IdleAction: delete`: delete it as an
    /// expired clone, send `clone-expired` with reason `idle`.
    DeleteIdle {
        #[serde(rename = "idleAfter")]
        idle_after: String,
    },
}

/// One clone and what to do to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepItem {
    pub cluster_id: String,
    #[serde(flatten)]
    pub action: SweepAction,
}

/// Everything the sweep planner looks at.
#[derive(Debug, Clone, Copy)]
pub struct SweepInput<'a> {
    pub clusters: &'a [ClusterInfo],
    pub stack_name: &'a str,
    /// How long before its expiry a clone is announced.
    pub expiry_warning: TimeDelta,
    pub now: DateTime<Utc>,
}

/// Decides the sweep: clones of this deployment only, in the inventory's order.
pub fn plan_sweep(input: SweepInput<'_>) -> Vec<SweepItem> {
    let SweepInput {
        clusters,
        stack_name,
        expiry_warning,
        now,
    } = input;
    let mut items = Vec::new();
    // A refresh in progress owns its clusters until it is done.
    let refreshing = crate::plan::refresh::in_refresh(clusters);
    for cluster in clusters {
        if tags::managed_role(cluster, stack_name) != Some(Role::Clone)
            || cluster.is_deleting()
            || refreshing.contains(&cluster.id)
        {
            continue;
        }
        let mut lifecycle = CloneLifecycle::of(cluster);
        let item = |action| SweepItem {
            cluster_id: cluster.id.clone(),
            action,
        };
        if let Some(value) = cluster.tag(tags::IDLE)
            && tags::parse_idle_tag(value).is_none()
        {
            lifecycle
                .unreadable
                .push((tags::IDLE.to_string(), value.to_string()));
        }
        if let Some((tag, value)) = lifecycle.unreadable.first() {
            items.push(item(SweepAction::Unreadable {
                tag: tag.clone(),
                value: value.clone(),
            }));
            continue;
        }
        let (Some(expires_at), Some(effective)) =
            (lifecycle.expires_at, lifecycle.effective_expiry())
        else {
            continue;
        };
        if effective <= now {
            items.push(item(SweepAction::Expire {
                expires_at: effective,
            }));
        } else if expires_at <= now
            && let Some(until) = lifecycle.protected_until
        {
            items.push(item(SweepAction::Protected { expires_at, until }));
        } else if effective - expiry_warning <= now
            && lifecycle.notice_sent_for.as_deref() != Some(format_timestamp(effective).as_str())
        {
            items.push(item(SweepAction::Warn {
                expires_at: effective,
            }));
        }
    }
    items
}

/// A clone whose connections the sweep reads to tell whether it is idle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleCandidate {
    pub cluster_id: String,
    pub idle_after: TimeDelta,
    pub action: IdleAction,
}

/// The clones with an idle rule that could be acted on now: this deployment's clones that
/// are `available` (a stopped one is left alone; one that AWS started again after seven
/// days is available and is judged again), not protected, and not already being expired
/// by this sweep.
pub fn idle_candidates(input: SweepInput<'_>, planned: &[SweepItem]) -> Vec<IdleCandidate> {
    let refreshing = crate::plan::refresh::in_refresh(input.clusters);
    input
        .clusters
        .iter()
        .filter(|cluster| {
            tags::managed_role(cluster, input.stack_name) == Some(Role::Clone)
                && !refreshing.contains(&cluster.id)
                && cluster.is_available()
                && !CloneLifecycle::of(cluster).is_protected(input.now)
                && !planned.iter().any(|item| item.cluster_id == cluster.id)
        })
        .filter_map(|cluster| {
            let (idle_after, action) = tags::parse_idle_tag(cluster.tag(tags::IDLE)?)?;
            Some(IdleCandidate {
                cluster_id: cluster.id.clone(),
                idle_after,
                action,
            })
        })
        .collect()
}

/// The end of the window connections are read over: the last whole hour, so that every
/// hour in it is complete.
pub fn idle_window_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now)
}

/// Hourly metric points of each cluster, as the metrics port reads them.
pub type HourlySeries = BTreeMap<String, Vec<(DateTime<Utc>, f64)>>;

/// Decides which candidates are idle: every hour of its `IdleAfter` up to `window_end` is
/// a quiet hour, and no hour has a connection. A quiet hour has a `DatabaseConnections`
/// point of 0 (so it ran, unused); for `IdleAction: delete`, an hour its Serverless v2
/// writer was paused throughout (`ServerlessDatabaseCapacity` 0: a paused instance sends no
/// connection count) is quiet too, while stopping a paused clone would save nothing. A
/// clone started less than `IdleAfter` ago (by someone, or by AWS after seven days
/// stopped) has hours without data and is judged again on a later sweep.
pub fn plan_idle(
    candidates: &[IdleCandidate],
    connections: &HourlySeries,
    capacity: &HourlySeries,
    window_end: DateTime<Utc>,
) -> Vec<SweepItem> {
    let mut items = Vec::new();
    for candidate in candidates {
        let start = window_end - candidate.idle_after;
        let in_window = |series: &HourlySeries| -> Vec<(DateTime<Utc>, f64)> {
            series
                .get(&candidate.cluster_id)
                .into_iter()
                .flatten()
                .filter(|(hour, _)| *hour >= start && *hour < window_end)
                .copied()
                .collect()
        };
        let counted = in_window(connections);
        if counted.iter().any(|(_, value)| *value > 0.0) {
            continue;
        }
        let mut quiet_hours: std::collections::BTreeSet<DateTime<Utc>> =
            counted.iter().map(|(hour, _)| *hour).collect();
        if candidate.action == IdleAction::Delete {
            quiet_hours.extend(
                in_window(capacity)
                    .into_iter()
                    .filter(|(_, acus)| *acus == 0.0)
                    .map(|(hour, _)| hour),
            );
        }
        let hours = usize::try_from(candidate.idle_after.num_hours()).unwrap_or(usize::MAX);
        if quiet_hours.len() < hours {
            continue;
        }
        let idle_after = format_duration(candidate.idle_after);
        items.push(SweepItem {
            cluster_id: candidate.cluster_id.clone(),
            action: match candidate.action {
                IdleAction::Stop => SweepAction::Stop { idle_after },
                IdleAction::Delete => SweepAction::DeleteIdle { idle_after },
            },
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::ClusterStatus;
    use aurora_clone_model::testing::{cluster, now, tagged_clone};

    fn clone_with(id: &str, pairs: &[(&str, String)]) -> ClusterInfo {
        let mut clone = tagged_clone("acm", id, &cluster("prod"));
        for (key, value) in pairs {
            clone.tags.insert((*key).to_string(), value.clone());
        }
        clone
    }

    fn at(offset: TimeDelta) -> String {
        format_timestamp(now() + offset)
    }

    fn sweep(clusters: &[ClusterInfo]) -> Vec<SweepItem> {
        plan_sweep(SweepInput {
            clusters,
            stack_name: "acm",
            expiry_warning: TimeDelta::hours(24),
            now: now(),
        })
    }

    #[test]
    fn an_expired_clone_is_deleted_and_one_expiring_within_the_warning_is_announced_once() {
        let expired = clone_with("old", &[(tags::EXPIRES_AT, at(-TimeDelta::minutes(1)))]);
        let soon = clone_with("soon", &[(tags::EXPIRES_AT, at(TimeDelta::hours(2)))]);
        let announced = clone_with(
            "told",
            &[
                (tags::EXPIRES_AT, at(TimeDelta::hours(2))),
                (tags::EXPIRING_NOTICE, at(TimeDelta::hours(2))),
            ],
        );
        let later = clone_with("later", &[(tags::EXPIRES_AT, at(TimeDelta::hours(25)))]);
        let forever = clone_with("forever", &[]);
        let items = sweep(&[expired, soon, announced, later, forever]);
        assert_eq!(
            items,
            vec![
                SweepItem {
                    cluster_id: "old".into(),
                    action: SweepAction::Expire {
                        expires_at: now() - TimeDelta::minutes(1)
                    },
                },
                SweepItem {
                    cluster_id: "soon".into(),
                    action: SweepAction::Warn {
                        expires_at: now() + TimeDelta::hours(2)
                    },
                },
            ]
        );
    }

    #[test]
    fn a_protected_clone_is_not_expired_before_its_protection_ends() {
        let protected = clone_with(
            "kept",
            &[
                (tags::EXPIRES_AT, at(-TimeDelta::hours(1))),
                (tags::PROTECTED_UNTIL, at(TimeDelta::hours(30))),
            ],
        );
        let protection_over = clone_with(
            "over",
            &[
                (tags::EXPIRES_AT, at(-TimeDelta::hours(3))),
                (tags::PROTECTED_UNTIL, at(-TimeDelta::hours(1))),
            ],
        );
        let items = sweep(&[protected, protection_over]);
        assert_eq!(
            items,
            vec![
                SweepItem {
                    cluster_id: "kept".into(),
                    action: SweepAction::Protected {
                        expires_at: now() - TimeDelta::hours(1),
                        until: now() + TimeDelta::hours(30),
                    },
                },
                SweepItem {
                    cluster_id: "over".into(),
                    action: SweepAction::Expire {
                        expires_at: now() - TimeDelta::hours(1)
                    },
                },
            ]
        );
    }

    #[test]
    fn an_extended_expiry_is_announced_again() {
        let extended = clone_with(
            "ext",
            &[
                (tags::EXPIRES_AT, at(TimeDelta::hours(5))),
                (tags::EXPIRING_NOTICE, at(TimeDelta::hours(1))),
            ],
        );
        assert_eq!(
            sweep(&[extended]),
            vec![SweepItem {
                cluster_id: "ext".into(),
                action: SweepAction::Warn {
                    expires_at: now() + TimeDelta::hours(5)
                },
            }]
        );
    }

    #[test]
    fn other_deployments_copies_roots_and_clusters_being_deleted_are_never_swept() {
        let past = at(-TimeDelta::hours(1));
        let mut other = tagged_clone("someone-else", "theirs", &cluster("prod"));
        other.tags.insert(tags::EXPIRES_AT.into(), past.clone());
        let mut copy = clone_with("copy", &[(tags::EXPIRES_AT, past.clone())]);
        copy.tags.insert(tags::ROLE.into(), "copy".into());
        let mut root = cluster("prod");
        root.tags.insert(tags::EXPIRES_AT.into(), past.clone());
        let mut deleting = clone_with("going", &[(tags::EXPIRES_AT, past)]);
        deleting.status = ClusterStatus::Deleting;
        assert_eq!(sweep(&[other, copy, root, deleting]), vec![]);
    }

    fn hourly(values: &[f64], end: DateTime<Utc>) -> Vec<(DateTime<Utc>, f64)> {
        let count = values.len() as i32;
        values
            .iter()
            .enumerate()
            .map(|(index, value)| {
                (
                    end - TimeDelta::hours(i64::from(count) - index as i64),
                    *value,
                )
            })
            .collect()
    }

    #[test]
    fn a_clone_is_idle_only_with_a_quiet_data_point_for_every_hour_of_its_window() {
        let idle = |id: &str| IdleCandidate {
            cluster_id: id.into(),
            idle_after: TimeDelta::hours(3),
            action: IdleAction::Stop,
        };
        let end = idle_window_end(now() + TimeDelta::minutes(20));
        assert_eq!(end, now());
        let connections: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = [
            ("quiet".to_string(), hourly(&[0.0, 0.0, 0.0], end)),
            ("busy".to_string(), hourly(&[0.0, 2.0, 0.0], end)),
            ("just-started".to_string(), hourly(&[0.0, 0.0], end)),
        ]
        .into();
        let mut delete = idle("quiet-delete");
        delete.action = IdleAction::Delete;
        let mut all = connections.clone();
        all.insert("quiet-delete".into(), hourly(&[0.0, 0.0, 0.0, 0.0], end));
        let items = plan_idle(
            &[
                idle("quiet"),
                idle("busy"),
                idle("just-started"),
                idle("no-data"),
                delete,
            ],
            &all,
            &HourlySeries::new(),
            end,
        );
        assert_eq!(
            items,
            vec![
                SweepItem {
                    cluster_id: "quiet".into(),
                    action: SweepAction::Stop {
                        idle_after: "PT3H".into()
                    },
                },
                SweepItem {
                    cluster_id: "quiet-delete".into(),
                    action: SweepAction::DeleteIdle {
                        idle_after: "PT3H".into()
                    },
                },
            ]
        );
    }

    #[test]
    fn paused_hours_count_as_idle_for_a_clone_that_is_deleted_when_idle_not_for_one_stopped() {
        let end = idle_window_end(now());
        let candidate = |id: &str, action: IdleAction| IdleCandidate {
            cluster_id: id.into(),
            idle_after: TimeDelta::hours(3),
            action,
        };
        // Two hours paused (no connection count at all), one hour running unused.
        let connections: HourlySeries = [
            ("paused-delete".to_string(), hourly(&[0.0], end)),
            ("paused-stop".to_string(), hourly(&[0.0], end)),
            ("woke-up".to_string(), hourly(&[3.0], end)),
        ]
        .into();
        let paused = |id: &str| {
            (
                id.to_string(),
                vec![
                    (end - TimeDelta::hours(3), 0.0),
                    (end - TimeDelta::hours(2), 0.0),
                    (end - TimeDelta::hours(1), 0.5),
                ],
            )
        };
        let capacity: HourlySeries = [
            paused("paused-delete"),
            paused("paused-stop"),
            paused("woke-up"),
            // Paused for only part of the window: hours without any count stay unknown.
            ("short".to_string(), vec![(end - TimeDelta::hours(1), 0.0)]),
        ]
        .into();
        let items = plan_idle(
            &[
                candidate("paused-delete", IdleAction::Delete),
                candidate("paused-stop", IdleAction::Stop),
                candidate("woke-up", IdleAction::Delete),
                candidate("short", IdleAction::Delete),
            ],
            &connections,
            &capacity,
            end,
        );
        assert_eq!(
            items,
            vec![SweepItem {
                cluster_id: "paused-delete".into(),
                action: SweepAction::DeleteIdle {
                    idle_after: "PT3H".into()
                },
            }]
        );
    }

    #[test]
    fn only_available_unprotected_clones_with_an_idle_rule_are_candidates() {
        let rule = (tags::IDLE, "PT12H stop".to_string());
        let running = clone_with("running", std::slice::from_ref(&rule));
        let mut stopped = clone_with("stopped", std::slice::from_ref(&rule));
        stopped.status = ClusterStatus::Stopped;
        let protected = clone_with(
            "protected",
            &[
                rule.clone(),
                (tags::PROTECTED_UNTIL, at(TimeDelta::hours(1))),
            ],
        );
        let no_rule = clone_with("no-rule", &[]);
        let clusters = [running, stopped, protected, no_rule];
        let input = SweepInput {
            clusters: &clusters,
            stack_name: "acm",
            expiry_warning: TimeDelta::hours(24),
            now: now(),
        };
        assert_eq!(
            idle_candidates(input, &[]),
            vec![IdleCandidate {
                cluster_id: "running".into(),
                idle_after: TimeDelta::hours(12),
                action: IdleAction::Stop,
            }]
        );
    }

    #[test]
    fn an_unreadable_expiry_is_reported_and_never_acted_on() {
        let garbled = clone_with("garbled", &[(tags::EXPIRES_AT, "next tuesday".into())]);
        assert_eq!(
            sweep(&[garbled]),
            vec![SweepItem {
                cluster_id: "garbled".into(),
                action: SweepAction::Unreadable {
                    tag: tags::EXPIRES_AT.into(),
                    value: "next tuesday".into()
                },
            }]
        );
    }
}
