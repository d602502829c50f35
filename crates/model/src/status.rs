//! The status of an Aurora cluster, parsed once where DescribeDBClusters is read.
//!
//! RDS reports the status as a string (RDS API reference, `DBCluster.Status`; the Aurora
//! user guide's table "Viewing DB cluster status",
//! https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html).
//! The states this code decides on are variants, so a misspelt state does not compile;
//! any other string AWS sends is kept as [`ClusterStatus::Other`] and shown as it came.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One cluster's status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClusterStatus {
    Available,
    BackingUp,
    Creating,
    Deleting,
    Failed,
    InaccessibleEncryptionCredentials,
    InaccessibleEncryptionCredentialsRecoverable,
    IncompatibleParameters,
    IncompatibleRestore,
    Maintenance,
    MigrationFailed,
    Modifying,
    Renaming,
    ResettingMasterCredentials,
    Starting,
    Stopped,
    Stopping,
    Upgrading,
    /// A status this code takes no decision on, as RDS spelt it.
    Other(String),
}

/// Every named status and its spelling in the RDS API.
const SPELLINGS: &[(ClusterStatus, &str)] = &[
    (ClusterStatus::Available, "available"),
    (ClusterStatus::BackingUp, "backing-up"),
    (ClusterStatus::Creating, "creating"),
    (ClusterStatus::Deleting, "deleting"),
    (ClusterStatus::Failed, "failed"),
    (
        ClusterStatus::InaccessibleEncryptionCredentials,
        "inaccessible-encryption-credentials",
    ),
    (
        ClusterStatus::InaccessibleEncryptionCredentialsRecoverable,
        "inaccessible-encryption-credentials-recoverable",
    ),
    (
        ClusterStatus::IncompatibleParameters,
        "incompatible-parameters",
    ),
    (ClusterStatus::IncompatibleRestore, "incompatible-restore"),
    (ClusterStatus::Maintenance, "maintenance"),
    (ClusterStatus::MigrationFailed, "migration-failed"),
    (ClusterStatus::Modifying, "modifying"),
    (ClusterStatus::Renaming, "renaming"),
    (
        ClusterStatus::ResettingMasterCredentials,
        "resetting-master-credentials",
    ),
    (ClusterStatus::Starting, "starting"),
    (ClusterStatus::Stopped, "stopped"),
    (ClusterStatus::Stopping, "stopping"),
    (ClusterStatus::Upgrading, "upgrading"),
];

impl ClusterStatus {
    /// The status as RDS spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ClusterStatus::Other(other) => other,
            named => SPELLINGS
                .iter()
                .find(|(status, _)| status == named)
                .map(|(_, spelling)| *spelling)
                .expect("every named status has a spelling"),
        }
    }

    /// The status RDS reported; a spelling we do not name becomes [`ClusterStatus::Other`].
    pub fn parse(reported: &str) -> ClusterStatus {
        SPELLINGS
            .iter()
            .find(|(_, spelling)| *spelling == reported)
            .map(|(status, _)| status.clone())
            .unwrap_or_else(|| ClusterStatus::Other(reported.to_string()))
    }

    /// A restore can start from a cluster in this state. The planner only picks such
    /// sources and the fake only restores from them; AWS does not list these states, so
    /// the list is this project's own.
    pub fn is_cloneable(&self) -> bool {
        matches!(
            self,
            ClusterStatus::Available
                | ClusterStatus::BackingUp
                | ClusterStatus::Maintenance
                | ClusterStatus::Modifying
                | ClusterStatus::Upgrading
                | ClusterStatus::Renaming
        )
    }

    /// A cluster in this state will never become available by waiting (RDS API reference,
    /// `DBCluster.Status`; the Aurora user guide's cluster status table).
    pub fn is_failed(&self) -> bool {
        matches!(
            self,
            ClusterStatus::Failed
                | ClusterStatus::InaccessibleEncryptionCredentials
                | ClusterStatus::InaccessibleEncryptionCredentialsRecoverable
                | ClusterStatus::IncompatibleParameters
                | ClusterStatus::IncompatibleRestore
                | ClusterStatus::MigrationFailed
        )
    }
}

/// No status reported (an empty string), as a cluster built field by field has.
impl Default for ClusterStatus {
    fn default() -> ClusterStatus {
        ClusterStatus::Other(String::new())
    }
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ClusterStatus {
    fn from(reported: &str) -> ClusterStatus {
        ClusterStatus::parse(reported)
    }
}

impl Serialize for ClusterStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClusterStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ClusterStatus, D::Error> {
        let reported = String::deserialize(deserializer)?;
        Ok(ClusterStatus::parse(&reported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_status_reads_back_from_its_spelling() {
        for (status, spelling) in SPELLINGS {
            assert_eq!(status.as_str(), *spelling);
            assert_eq!(ClusterStatus::parse(spelling), *status);
            assert!(!matches!(status, ClusterStatus::Other(_)));
        }
    }

    #[test]
    fn an_unknown_status_is_kept_as_aws_spelt_it() {
        let status = ClusterStatus::parse("storage-optimization");
        assert_eq!(status, ClusterStatus::Other("storage-optimization".into()));
        assert_eq!(status.to_string(), "storage-optimization");
        assert!(!status.is_cloneable() && !status.is_failed());
    }

    #[test]
    fn the_status_is_a_plain_string_in_json() {
        let json = serde_json::to_string(&ClusterStatus::ResettingMasterCredentials).unwrap();
        assert_eq!(json, "\"resetting-master-credentials\"");
        let back: ClusterStatus = serde_json::from_str("\"creating\"").unwrap();
        assert_eq!(back, ClusterStatus::Creating);
    }
}
