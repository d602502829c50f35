//! Estimated monthly cost of a root, a copy or a clone: instance hours at the class's price
//! (or ACU hours at the ACU price for `db.serverless` instances, from the minimum and the
//! maximum of the cluster's capacity range) plus storage at the GB-month price. Pure
//! arithmetic over a price table; what cannot be priced is "unknown", never 0.
//!
//! These are estimates: the price table is the operator's (or the defaults below, which are
//! unverified), and I/O, backups, snapshots and data transfer are not counted.

use aurora_clone_model::ClusterStatus;
use std::collections::BTreeMap;

use serde::Serialize;

use aurora_clone_model::ServerlessV2Scaling;

/// Hours in the month the estimate is for: 365 days × 24 hours / 12 months. A month of
/// running costs exactly this many instance hours in every estimate, whatever the month.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Bytes in one GB of the storage price. AWS's pricing pages say "GB-month" without saying
/// whether a GB is 10^9 or 2^30 bytes (unverified); this uses 2^30 (GiB), the larger
/// unit, which gives the lower of the two numbers (2.4% lower).
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// The instance class whose capacity is the cluster's Serverless v2 range.
pub use aurora_clone_model::rules::SERVERLESS_INSTANCE_CLASS as SERVERLESS_CLASS;

/// Where the default prices come from. AWS publishes its prices on web pages, not in an API
/// this tool calls, so the defaults are a snapshot that nothing here checks.
pub const DEFAULT_PRICES_SOURCE: &str = "defaults: us-east-1 on-demand list prices for \
     Aurora PostgreSQL and MySQL (Aurora Standard storage), as noted in November 2026; \
     unverified";

/// Default price per instance hour, by class (see [`DEFAULT_PRICES_SOURCE`]).
pub const DEFAULT_INSTANCE_HOUR: &[(&str, f64)] = &[
    ("db.t3.medium", 0.082),
    ("db.t3.large", 0.164),
    ("db.t4g.medium", 0.073),
    ("db.t4g.large", 0.146),
    ("db.r5.large", 0.29),
    ("db.r5.xlarge", 0.58),
    ("db.r6g.large", 0.26),
    ("db.r6g.xlarge", 0.519),
    ("db.r6g.2xlarge", 1.038),
    ("db.r6i.large", 0.29),
    ("db.r7g.large", 0.276),
    ("db.r7g.xlarge", 0.552),
];

/// Default price of one Aurora capacity unit for one hour (Serverless v2, Aurora Standard).
pub const DEFAULT_ACU_HOUR: f64 = 0.12;

/// Default price of one GB of cluster volume for one month (Aurora Standard).
pub const DEFAULT_STORAGE_GB_MONTH: f64 = 0.10;

/// Default currency of the prices.
pub const DEFAULT_CURRENCY: &str = "USD";

/// The prices estimates are made from: the maintenance config's `:prices`, else the
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceTable {
    /// Price per instance hour by instance class. A class missing here is priced "unknown".
    pub instance_hour: BTreeMap<String, f64>,
    pub acu_hour: f64,
    pub storage_gb_month: f64,
    pub currency: String,
    /// Where the prices come from (the defaults' source, or the maintenance config).
    pub source: String,
}

// Prices are finite and not negative (the config parser refuses anything else), so
// equality is total.
impl Eq for PriceTable {}

impl Default for PriceTable {
    fn default() -> PriceTable {
        PriceTable {
            instance_hour: DEFAULT_INSTANCE_HOUR
                .iter()
                .map(|(class, price)| (class.to_string(), *price))
                .collect(),
            acu_hour: DEFAULT_ACU_HOUR,
            storage_gb_month: DEFAULT_STORAGE_GB_MONTH,
            currency: DEFAULT_CURRENCY.to_string(),
            source: DEFAULT_PRICES_SOURCE.to_string(),
        }
    }
}

/// What is known of one cluster for its estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct CostInput {
    /// The class of each of its instances; `None` for an instance whose class could not be
    /// learnt.
    pub instance_classes: Vec<Option<String>>,
    /// Its Serverless v2 capacity range, for `db.serverless` instances.
    pub scaling: Option<ServerlessV2Scaling>,
    /// The RDS status of the cluster: a `stopped` cluster pays for storage only.
    pub status: ClusterStatus,
    /// The latest `VolumeBytesUsed`; `None` when CloudWatch had no data point.
    pub volume_bytes: Option<f64>,
}

/// A cost from its lowest to its highest estimate: equal for provisioned instances, the
/// minimum and maximum of the capacity range for `db.serverless` ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Span {
    pub low: f64,
    pub high: f64,
}

impl Span {
    const ZERO: Span = Span {
        low: 0.0,
        high: 0.0,
    };

    fn add(self, other: Span) -> Span {
        Span {
            low: self.low + other.low,
            high: self.high + other.high,
        }
    }

    fn rounded(self) -> Span {
        Span {
            low: cents(self.low),
            high: cents(self.high),
        }
    }
}

/// The estimated monthly cost of one cluster. Parts that cannot be priced are `None`
/// ("unknown") and `unknown` says why; `total` is known only when both parts are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostEstimate {
    /// Always true: a reminder, in the JSON too, that this is an estimate.
    pub estimate: bool,
    pub currency: String,
    /// Instance hours or ACU hours for a month.
    pub compute: Option<Span>,
    /// Storage for a month at the latest `VolumeBytesUsed`.
    pub storage: Option<f64>,
    pub total: Option<Span>,
    /// The latest `VolumeBytesUsed` in GB (2^30 bytes), two decimals.
    pub volume_gb: Option<f64>,
    /// Why a part is unknown.
    pub unknown: Vec<String>,
    /// Anything else the estimate assumed (a stopped cluster, for instance).
    pub notes: Vec<String>,
}

/// Rounds an amount to cents (two decimals).
pub fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// The estimated monthly cost of one cluster.
pub fn estimate(input: &CostInput, prices: &PriceTable) -> CostEstimate {
    let mut unknown = Vec::new();
    let mut notes = Vec::new();
    // A stopped cluster runs no instance; that AWS then bills its storage alone is
    // unverified (its page on stopping a cluster was not at hand).
    let compute = if input.status == ClusterStatus::Stopped {
        notes.push(
            "stopped: storage only while it stays stopped (Aurora starts a stopped cluster \
             again after seven days)"
                .to_string(),
        );
        Some(Span::ZERO)
    } else {
        compute_cost(input, prices, &mut unknown)
    };
    let storage = match input.volume_bytes {
        Some(bytes) => Some(bytes / BYTES_PER_GB * prices.storage_gb_month),
        None => {
            unknown.push("storage: CloudWatch has no VolumeBytesUsed for it".to_string());
            None
        }
    };
    let total = match (compute, storage) {
        (Some(compute), Some(storage)) => Some(
            Span {
                low: compute.low + storage,
                high: compute.high + storage,
            }
            .rounded(),
        ),
        _ => None,
    };
    CostEstimate {
        estimate: true,
        currency: prices.currency.clone(),
        compute: compute.map(Span::rounded),
        storage: storage.map(cents),
        total,
        volume_gb: input.volume_bytes.map(|bytes| cents(bytes / BYTES_PER_GB)),
        unknown,
        notes,
    }
}

fn compute_cost(input: &CostInput, prices: &PriceTable, unknown: &mut Vec<String>) -> Option<Span> {
    let mut sum = Span::ZERO;
    let mut known = true;
    for class in &input.instance_classes {
        let hourly = match class.as_deref() {
            None => {
                unknown.push("compute: the class of an instance is unknown".to_string());
                None
            }
            Some(SERVERLESS_CLASS) => {
                let range = input
                    .scaling
                    .and_then(|scaling| Some((scaling.min_capacity?, scaling.max_capacity?)));
                match range {
                    Some((min, max)) => Some(Span {
                        low: min * prices.acu_hour,
                        high: max * prices.acu_hour,
                    }),
                    None => {
                        unknown.push(format!(
                            "compute: a {SERVERLESS_CLASS} instance without a capacity range"
                        ));
                        None
                    }
                }
            }
            Some(class) => match prices.instance_hour.get(class) {
                Some(price) => Some(Span {
                    low: *price,
                    high: *price,
                }),
                None => {
                    unknown.push(format!("compute: no price for {class} in the price table"));
                    None
                }
            },
        };
        match hourly {
            Some(hourly) => {
                sum = sum.add(Span {
                    low: hourly.low * HOURS_PER_MONTH,
                    high: hourly.high * HOURS_PER_MONTH,
                });
            }
            None => known = false,
        }
    }
    known.then_some(sum)
}

/// What a cluster runs on, in words: `db.r6g.large`, `2 × db.r6g.large`,
/// `db.serverless 0.5-4 ACU`, `no instance`, or `-` when unknown.
pub fn capacity_text(classes: &[Option<String>], scaling: Option<ServerlessV2Scaling>) -> String {
    if classes.is_empty() {
        return "no instance".to_string();
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for class in classes {
        let shown = match class.as_deref() {
            None => "-".to_string(),
            Some(SERVERLESS_CLASS) => match scaling
                .and_then(|scaling| Some((scaling.min_capacity?, scaling.max_capacity?)))
            {
                Some((min, max)) => format!("{SERVERLESS_CLASS} {min}-{max} ACU"),
                None => SERVERLESS_CLASS.to_string(),
            },
            Some(class) => class.to_string(),
        };
        *counts.entry(shown).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(shown, count)| {
            if count == 1 {
                shown
            } else {
                format!("{count} × {shown}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The estimated monthly cost of a set of clusters (a pool's copies and clones): the sum of
/// the parts that are known, and the clusters with a part that is not.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolCost {
    pub estimate: bool,
    pub currency: String,
    /// How many clusters were counted.
    pub clusters: u32,
    pub compute: Span,
    pub storage: f64,
    pub total: Span,
    pub volume_gb: f64,
    /// Clusters with a part that could not be priced: the sums leave that part out.
    pub incomplete: Vec<String>,
}

/// Sums estimates; `currency` is the price table's.
pub fn pool_cost<'a>(
    estimates: impl IntoIterator<Item = (&'a str, &'a CostEstimate)>,
    currency: &str,
) -> PoolCost {
    let mut pool = PoolCost {
        estimate: true,
        currency: currency.to_string(),
        clusters: 0,
        compute: Span::ZERO,
        storage: 0.0,
        total: Span::ZERO,
        volume_gb: 0.0,
        incomplete: Vec::new(),
    };
    for (cluster_id, estimate) in estimates {
        pool.clusters += 1;
        if let Some(compute) = estimate.compute {
            pool.compute = pool.compute.add(compute);
        }
        if let Some(storage) = estimate.storage {
            pool.storage += storage;
        }
        if let Some(volume) = estimate.volume_gb {
            pool.volume_gb += volume;
        }
        if estimate.total.is_none() {
            pool.incomplete.push(cluster_id.to_string());
        }
    }
    pool.compute = pool.compute.rounded();
    pool.storage = cents(pool.storage);
    pool.volume_gb = cents(pool.volume_gb);
    pool.total = Span {
        low: pool.compute.low + pool.storage,
        high: pool.compute.high + pool.storage,
    }
    .rounded();
    pool
}

/// Adds pool costs (one per root) into one.
pub fn sum_pools<'a>(pools: impl IntoIterator<Item = &'a PoolCost>, currency: &str) -> PoolCost {
    let mut total = pool_cost(std::iter::empty(), currency);
    for pool in pools {
        total.clusters += pool.clusters;
        total.compute = total.compute.add(pool.compute);
        total.storage += pool.storage;
        total.volume_gb += pool.volume_gb;
        total.incomplete.extend(pool.incomplete.iter().cloned());
    }
    total.compute = total.compute.rounded();
    total.storage = cents(total.storage);
    total.volume_gb = cents(total.volume_gb);
    total.total = Span {
        low: total.compute.low + total.storage,
        high: total.compute.high + total.storage,
    }
    .rounded();
    total
}

/// An amount as shown: `USD 190.03`; a span whose ends differ as `USD 43.80-350.40`.
pub fn money(currency: &str, span: Span) -> String {
    if span.low == span.high {
        format!("{currency} {:.2}", span.low)
    } else {
        format!("{currency} {:.2}-{:.2}", span.low, span.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: f64 = BYTES_PER_GB;

    fn input(classes: &[&str], volume_bytes: Option<f64>) -> CostInput {
        CostInput {
            instance_classes: classes
                .iter()
                .map(|class| Some(class.to_string()))
                .collect(),
            scaling: None,
            status: ClusterStatus::Available,
            volume_bytes,
        }
    }

    fn serverless(min: f64, max: f64) -> Option<ServerlessV2Scaling> {
        Some(ServerlessV2Scaling {
            min_capacity: Some(min),
            max_capacity: Some(max),
            seconds_until_auto_pause: None,
        })
    }

    #[test]
    fn a_provisioned_instance_costs_its_class_price_for_730_hours_plus_storage() {
        // 0.26 × 730 = 189.80; 2.3 GiB × 0.10 = 0.23.
        let cost = estimate(
            &input(&["db.r6g.large"], Some(2.3 * GIB)),
            &PriceTable::default(),
        );
        assert_eq!(
            cost.compute,
            Some(Span {
                low: 189.8,
                high: 189.8
            })
        );
        assert_eq!(cost.storage, Some(0.23));
        assert_eq!(
            cost.total,
            Some(Span {
                low: 190.03,
                high: 190.03
            })
        );
        assert_eq!(cost.volume_gb, Some(2.3));
        assert_eq!(cost.currency, "USD");
        assert!(cost.estimate);
        assert!(cost.unknown.is_empty(), "{:?}", cost.unknown);
    }

    #[test]
    fn every_instance_of_a_cluster_is_counted() {
        // 2 × 0.073 × 730 = 106.58; 100 GiB × 0.10 = 10.00.
        let cost = estimate(
            &input(&["db.t4g.medium", "db.t4g.medium"], Some(100.0 * GIB)),
            &PriceTable::default(),
        );
        assert_eq!(cost.total.map(|total| total.low), Some(116.58));
    }

    #[test]
    fn a_serverless_instance_costs_its_range_minimum_to_maximum_in_acu_hours() {
        // 0.5 × 0.12 × 730 = 43.80; 4 × 0.12 × 730 = 350.40; 10 GiB × 0.10 = 1.00.
        let mut cluster = input(&[SERVERLESS_CLASS], Some(10.0 * GIB));
        cluster.scaling = serverless(0.5, 4.0);
        let cost = estimate(&cluster, &PriceTable::default());
        assert_eq!(
            cost.compute,
            Some(Span {
                low: 43.8,
                high: 350.4
            })
        );
        assert_eq!(
            cost.total,
            Some(Span {
                low: 44.8,
                high: 351.4
            })
        );
        assert_eq!(
            money(&cost.currency, cost.total.unwrap()),
            "USD 44.80-351.40"
        );
    }

    #[test]
    fn a_serverless_range_from_zero_costs_nothing_at_its_low_end_but_storage() {
        let mut cluster = input(&[SERVERLESS_CLASS], Some(50.0 * GIB));
        cluster.scaling = serverless(0.0, 2.0);
        let cost = estimate(&cluster, &PriceTable::default());
        // 0 ACU: storage only, 5.00; 2 × 0.12 × 730 = 175.20, + 5.00.
        assert_eq!(
            cost.total,
            Some(Span {
                low: 5.0,
                high: 180.2
            })
        );
    }

    #[test]
    fn a_class_without_a_price_makes_compute_and_total_unknown_never_zero() {
        let cost = estimate(
            &input(&["db.x2g.16xlarge"], Some(GIB)),
            &PriceTable::default(),
        );
        assert_eq!(cost.compute, None);
        assert_eq!(cost.total, None);
        assert_eq!(cost.storage, Some(0.1));
        assert_eq!(
            cost.unknown,
            vec!["compute: no price for db.x2g.16xlarge in the price table".to_string()]
        );
    }

    #[test]
    fn an_instance_of_unknown_class_or_a_serverless_one_without_range_is_unknown() {
        let mut cluster = input(&[], Some(GIB));
        cluster.instance_classes = vec![None];
        assert_eq!(estimate(&cluster, &PriceTable::default()).compute, None);
        let cluster = input(&[SERVERLESS_CLASS], Some(GIB));
        let cost = estimate(&cluster, &PriceTable::default());
        assert_eq!(cost.compute, None);
        assert!(cost.unknown[0].contains("without a capacity range"));
    }

    #[test]
    fn storage_without_a_data_point_is_unknown_and_so_is_the_total() {
        let cost = estimate(&input(&["db.r6g.large"], None), &PriceTable::default());
        assert_eq!(cost.storage, None);
        assert_eq!(cost.total, None);
        assert_eq!(cost.compute.map(|compute| compute.low), Some(189.8));
        assert_eq!(
            cost.unknown,
            vec!["storage: CloudWatch has no VolumeBytesUsed for it".to_string()]
        );
    }

    #[test]
    fn a_stopped_cluster_costs_its_storage_only_and_a_cluster_without_instances_too() {
        let mut stopped = input(&["db.r6g.large"], Some(20.0 * GIB));
        stopped.status = ClusterStatus::Stopped;
        let cost = estimate(&stopped, &PriceTable::default());
        assert_eq!(
            cost.total,
            Some(Span {
                low: 2.0,
                high: 2.0
            })
        );
        assert!(cost.notes[0].starts_with("stopped"), "{:?}", cost.notes);
        let bare = estimate(&input(&[], Some(20.0 * GIB)), &PriceTable::default());
        assert_eq!(
            bare.total,
            Some(Span {
                low: 2.0,
                high: 2.0
            })
        );
    }

    #[test]
    fn the_price_table_decides_the_numbers() {
        let prices = PriceTable {
            instance_hour: BTreeMap::from([("db.r6g.large".to_string(), 0.5)]),
            acu_hour: 0.2,
            storage_gb_month: 0.25,
            currency: "EUR".to_string(),
            source: "maintenance config".to_string(),
        };
        // 0.5 × 730 = 365.00; 4 GiB × 0.25 = 1.00.
        let cost = estimate(&input(&["db.r6g.large"], Some(4.0 * GIB)), &prices);
        assert_eq!(money(&cost.currency, cost.total.unwrap()), "EUR 366.00");
    }

    #[test]
    fn a_pool_sums_what_is_known_and_names_what_is_not() {
        let prices = PriceTable::default();
        let provisioned = estimate(&input(&["db.r6g.large"], Some(2.3 * GIB)), &prices);
        let mut range = input(&[SERVERLESS_CLASS], Some(10.0 * GIB));
        range.scaling = serverless(0.5, 4.0);
        let serverless = estimate(&range, &prices);
        let unpriced = estimate(&input(&["db.x2g.16xlarge"], Some(GIB)), &prices);
        let pool = pool_cost(
            [
                ("copy-1", &provisioned),
                ("clone-1", &serverless),
                ("clone-2", &unpriced),
            ],
            "USD",
        );
        assert_eq!(pool.clusters, 3);
        // compute 189.80 + 43.80..350.40; storage 0.23 + 1.00 + 0.10.
        assert_eq!(
            pool.compute,
            Span {
                low: 233.6,
                high: 540.2
            }
        );
        assert_eq!(pool.storage, 1.33);
        assert_eq!(
            pool.total,
            Span {
                low: 234.93,
                high: 541.53
            }
        );
        assert_eq!(pool.incomplete, vec!["clone-2".to_string()]);
        let both = sum_pools([&pool, &pool], "USD");
        assert_eq!(both.clusters, 6);
        assert_eq!(
            both.total,
            Span {
                low: 469.86,
                high: 1083.06
            }
        );
        assert_eq!(both.incomplete.len(), 2);
    }

    #[test]
    fn capacity_reads_as_classes_or_an_acu_range() {
        let one = |class: &str| vec![Some(class.to_string())];
        assert_eq!(capacity_text(&one("db.r6g.large"), None), "db.r6g.large");
        assert_eq!(
            capacity_text(
                &[Some("db.t4g.medium".into()), Some("db.t4g.medium".into())],
                None
            ),
            "2 × db.t4g.medium"
        );
        assert_eq!(
            capacity_text(&one(SERVERLESS_CLASS), serverless(0.5, 4.0)),
            "db.serverless 0.5-4 ACU"
        );
        assert_eq!(capacity_text(&[], None), "no instance");
        assert_eq!(capacity_text(&[None], None), "-");
    }
}
