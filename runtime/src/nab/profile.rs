//! The three NAB scoring profiles: costs of true positives, false positives and misses.

use std::path::Path;

use serde::Deserialize;

use super::NabError;

/// Weights of one profile (`A_TP`, `A_FP`, `A_FN`; NAB's `A_TN` is unused).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Costs {
    /// Reward for the earliest possible detection in a window.
    pub tp_weight: f64,
    /// Cost of a detection far from any window.
    pub fp_weight: f64,
    /// Cost of a window without detection.
    pub fn_weight: f64,
}

/// A named profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// `standard`, `reward_low_FP_rate` or `reward_low_FN_rate`.
    pub name: String,
    /// Its weights.
    pub costs: Costs,
}

#[derive(Deserialize)]
struct ProfileEntry {
    #[serde(rename = "CostMatrix")]
    cost_matrix: Costs,
}

impl Profile {
    /// NAB's profile names, in the order the scoreboard prints them.
    pub const NAMES: [&'static str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

    /// The three profiles as NAB v1.1 ships them (`config/profiles.json`).
    pub fn builtin() -> Vec<Profile> {
        let costs = [(1.0, 0.11, 1.0), (1.0, 0.22, 1.0), (1.0, 0.11, 2.0)];
        Profile::NAMES
            .iter()
            .zip(costs)
            .map(|(name, (tp, fp, fnw))| Profile {
                name: (*name).to_string(),
                costs: Costs {
                    tp_weight: tp,
                    fp_weight: fp,
                    fn_weight: fnw,
                },
            })
            .collect()
    }

    /// Reads `config/profiles.json`, in scoreboard order.
    pub fn load(path: &Path) -> Result<Vec<Profile>, NabError> {
        let text = std::fs::read_to_string(path).map_err(|source| NabError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut map: std::collections::BTreeMap<String, ProfileEntry> = serde_json::from_str(&text)
            .map_err(|source| NabError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        Profile::NAMES
            .iter()
            .map(|name| {
                let entry = map.remove(*name).ok_or_else(|| {
                    NabError::Missing(format!("{} has no profile `{name}`", path.display()))
                })?;
                Ok(Profile {
                    name: (*name).to_string(),
                    costs: entry.cost_matrix,
                })
            })
            .collect()
    }
}
