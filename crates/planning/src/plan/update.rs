//! The update decision for a `Custom::AuroraClone`: given the old and new properties and
//! the clone that exists, whether an Update changes nothing, changes the clone in place,
//! or makes a replacement (whose new physical id makes CloudFormation delete the old one).

use chrono::{DateTime, Utc};

use crate::plan::inventory::data_timestamp;
use crate::plan::request::CloneProperties;
use aurora_clone_model::{ClusterInfo, Tags};

/// What an Update of an existing, owned clone does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateDecision {
    /// Nothing the clone carries changed.
    NoChange,
    /// Tags, readers, expiry or idle settings changed; the clone stays.
    InPlace(InPlaceChanges),
    /// A property that makes the clone what it is changed (or the old properties are
    /// unreadable), or the clone's data is older than the new `CopyCreatedSince`.
    Replace {
        same_clone: bool,
        data_still_new_enough: bool,
    },
}

/// The changes an in-place update applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InPlaceChanges {
    /// The user tags changed: keys to remove and the full new set.
    pub tags: Option<TagChange>,
    /// The clone has a password and its readers changed: the new readers.
    pub readers: Option<Vec<String>>,
    /// Expiry, final snapshot or idle settings changed: the tags carrying them are rewritten.
    pub lifetime: bool,
    /// `RefreshToken` changed: the clone is refreshed in place (`plan::refresh`).
    pub refresh: bool,
}

/// User tags to take off and to put on the clone and its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChange {
    pub removed: Vec<String>,
    pub set: Tags,
}

/// Decides an Update of `cluster`, the clone the request's physical id names.
pub fn decide_update(
    old: Option<&CloneProperties>,
    new: &CloneProperties,
    cluster: &ClusterInfo,
) -> UpdateDecision {
    let same_clone = old.is_some_and(|old| old.identity() == new.identity());
    let data_still_new_enough = match new.copy_created_since {
        None => true,
        Some(since) => data_is_newer(data_timestamp(cluster), since),
    };
    let Some(old) = old.filter(|_| same_clone && data_still_new_enough) else {
        return UpdateDecision::Replace {
            same_clone,
            data_still_new_enough,
        };
    };
    let changes = in_place_changes(old, new);
    if changes == InPlaceChanges::default() {
        UpdateDecision::NoChange
    } else {
        UpdateDecision::InPlace(changes)
    }
}

fn data_is_newer(taken: Option<DateTime<Utc>>, since: DateTime<Utc>) -> bool {
    taken.is_some_and(|taken| taken > since)
}

fn in_place_changes(old: &CloneProperties, new: &CloneProperties) -> InPlaceChanges {
    let tags = (old.tags != new.tags).then(|| TagChange {
        removed: old
            .tags
            .keys()
            .filter(|key| !new.tags.contains_key(*key))
            .cloned()
            .collect(),
        set: new.tags.clone(),
    });
    let readers = (new.set_password && old.access_principal_arns != new.access_principal_arns)
        .then(|| new.access_principal_arns.clone());
    let lifetime = (old.expires_after, old.expires_at, old.final_snapshot)
        != (new.expires_after, new.expires_at, new.final_snapshot)
        || (old.idle_after, old.idle_action) != (new.idle_after, new.idle_action);
    InPlaceChanges {
        tags,
        readers,
        lifetime,
        refresh: old.refresh_token != new.refresh_token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::tags;
    use aurora_clone_model::testing::{cluster, now, tagged_clone};
    use aurora_clone_model::time::format_timestamp;

    fn properties() -> CloneProperties {
        CloneProperties::for_source("prod")
    }

    fn clone() -> ClusterInfo {
        tagged_clone("acm", "dev-1", &cluster("prod"))
    }

    #[test]
    fn a_new_refresh_token_alone_refreshes_the_same_clone_in_place() {
        let mut new = properties();
        new.refresh_token = Some("2".into());
        let UpdateDecision::InPlace(changes) = decide_update(Some(&properties()), &new, &clone())
        else {
            panic!("not in place");
        };
        assert!(changes.refresh);
        assert_eq!(changes.tags, None);
        assert!(!changes.lifetime);
    }

    #[test]
    fn the_same_properties_change_nothing() {
        assert_eq!(
            decide_update(Some(&properties()), &properties(), &clone()),
            UpdateDecision::NoChange
        );
    }

    #[test]
    fn tags_change_in_place_and_dropped_keys_are_removed() {
        let mut old = properties();
        old.tags.insert("team".into(), "data".into());
        old.tags.insert("cost".into(), "1".into());
        let mut new = properties();
        new.tags.insert("team".into(), "web".into());
        let UpdateDecision::InPlace(changes) = decide_update(Some(&old), &new, &clone()) else {
            panic!("expected an in-place update");
        };
        let change = changes.tags.unwrap();
        assert_eq!(change.removed, ["cost"]);
        assert_eq!(change.set, new.tags);
        assert_eq!(changes.readers, None);
        assert!(!changes.lifetime);
    }

    #[test]
    fn readers_change_in_place_only_on_a_clone_with_a_password() {
        let mut old = properties();
        old.access_principal_arns = vec!["arn:aws:iam::123456789012:role/a".into()];
        let mut new = old.clone();
        new.access_principal_arns = vec!["arn:aws:iam::123456789012:role/b".into()];
        assert_eq!(
            decide_update(Some(&old), &new, &clone()),
            UpdateDecision::NoChange
        );
        old.set_password = true;
        new.set_password = true;
        let UpdateDecision::InPlace(changes) = decide_update(Some(&old), &new, &clone()) else {
            panic!("expected an in-place update");
        };
        assert_eq!(changes.readers, Some(new.access_principal_arns.clone()));
    }

    #[test]
    fn a_new_expiry_is_an_in_place_change() {
        let mut new = properties();
        new.expires_after = Some(chrono::TimeDelta::hours(2));
        let UpdateDecision::InPlace(changes) = decide_update(Some(&properties()), &new, &clone())
        else {
            panic!("expected an in-place update");
        };
        assert!(changes.lifetime);
    }

    #[test]
    fn a_changed_serverless_capacity_range_replaces_the_clone() {
        let mut new = properties();
        new.serverless = Some(crate::plan::capacity::CapacityRequest {
            min_acu: 0.0,
            max_acu: 4.0,
            auto_pause_seconds: None,
        });
        assert_eq!(
            decide_update(Some(&properties()), &new, &clone()),
            UpdateDecision::Replace {
                same_clone: false,
                data_still_new_enough: true
            }
        );
        assert_eq!(
            decide_update(Some(&new), &new.clone(), &clone()),
            UpdateDecision::NoChange
        );
    }

    #[test]
    fn a_changed_identity_or_unreadable_old_properties_replace_the_clone() {
        let mut new = properties();
        new.instance_class = Some("db.r6g.large".into());
        assert_eq!(
            decide_update(Some(&properties()), &new, &clone()),
            UpdateDecision::Replace {
                same_clone: false,
                data_still_new_enough: true
            }
        );
        assert_eq!(
            decide_update(None, &properties(), &clone()),
            UpdateDecision::Replace {
                same_clone: false,
                data_still_new_enough: true
            }
        );
    }

    #[test]
    fn data_older_than_copy_created_since_replaces_the_clone() {
        let mut clone = clone();
        clone.tags.insert(
            tags::DATA_TIMESTAMP.into(),
            format_timestamp(now() - chrono::TimeDelta::days(2)),
        );
        let mut new = properties();
        new.copy_created_since = Some(now() - chrono::TimeDelta::days(1));
        let mut old = properties();
        old.copy_created_since = new.copy_created_since;
        assert_eq!(
            decide_update(Some(&old), &new, &clone),
            UpdateDecision::Replace {
                same_clone: true,
                data_still_new_enough: false
            }
        );
        new.copy_created_since = Some(now() - chrono::TimeDelta::days(3));
        assert_eq!(
            decide_update(Some(&old), &new, &clone),
            UpdateDecision::NoChange
        );
    }
}
