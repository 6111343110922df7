//! Argon2id cost parameters that cannot be weak by accident.

use crate::error::{Error, ErrorKind};
use crate::execute::password::{
    DEFAULT_ARGON2_ITERATIONS, DEFAULT_ARGON2_MEMORY_KIB, DEFAULT_ARGON2_PARALLELISM,
};
use crate::issue::IssueCode;
use serde::{Deserialize, Serialize};

/// Argon2id cost parameters, never below OWASP's minimum (m = 19456 KiB, t = 2, p ≥ 1)
/// unless made with [`HashParams::insecure_for_tests`].
///
/// As data (JSON, a Python dict, a JavaScript object) it is
/// `{"memory_kib": 19456, "iterations": 2, "parallelism": 1}`; weak parameters are only
/// read with `"insecure_for_tests": true`, otherwise refused (`weak_hash_params`).
///
/// ```
/// use lms_bulk_upload::HashParams;
/// assert_eq!(HashParams::new(19_456, 2, 1).unwrap(), HashParams::default());
/// assert_eq!(HashParams::new(64, 1, 1).unwrap_err().code().as_str(), "weak_hash_params");
/// let fast = HashParams::insecure_for_tests(64, 1, 1);
/// assert!(fast.is_insecure_for_tests());
/// let json = r#"{"memory_kib":64,"iterations":1,"parallelism":1,"insecure_for_tests":true}"#;
/// assert_eq!(HashParams::from_value(serde_json::from_str(json).unwrap()).unwrap(), fast);
/// assert_eq!(serde_json::to_string(&fast).unwrap(), json);
/// let weak = serde_json::json!({"memory_kib": 64, "iterations": 1, "parallelism": 1});
/// assert_eq!(HashParams::from_value(weak).unwrap_err().code().as_str(), "weak_hash_params");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HashParamsData", into = "HashParamsData")]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    insecure_for_tests: bool,
}

/// The data form of [`HashParams`]: missing keys take OWASP's values.
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct HashParamsData {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    insecure_for_tests: bool,
}

impl Default for HashParamsData {
    fn default() -> Self {
        HashParams::default().into()
    }
}

impl From<HashParams> for HashParamsData {
    fn from(p: HashParams) -> Self {
        HashParamsData {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
            insecure_for_tests: p.insecure_for_tests,
        }
    }
}

impl TryFrom<HashParamsData> for HashParams {
    type Error = Error;
    fn try_from(d: HashParamsData) -> Result<Self, Error> {
        if d.insecure_for_tests {
            Ok(HashParams::insecure_for_tests(
                d.memory_kib,
                d.iterations,
                d.parallelism,
            ))
        } else {
            HashParams::new(d.memory_kib, d.iterations, d.parallelism)
        }
    }
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: DEFAULT_ARGON2_MEMORY_KIB,
            iterations: DEFAULT_ARGON2_ITERATIONS,
            parallelism: DEFAULT_ARGON2_PARALLELISM,
            insecure_for_tests: false,
        }
    }
}

impl HashParams {
    /// Parameters at or above OWASP's minimum: `memory_kib` ≥ 19456, `iterations` ≥ 2,
    /// `parallelism` ≥ 1; anything weaker is refused with `weak_hash_params`.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<HashParams, Error> {
        if memory_kib < DEFAULT_ARGON2_MEMORY_KIB
            || iterations < DEFAULT_ARGON2_ITERATIONS
            || parallelism < 1
        {
            return Err(Error::settings(
                IssueCode::WeakHashParams,
                format!(
                    "argon2id m={memory_kib} KiB, t={iterations}, p={parallelism} is below OWASP's minimum \
                     (m={DEFAULT_ARGON2_MEMORY_KIB} KiB, t={DEFAULT_ARGON2_ITERATIONS}, p=1); \
                     weak parameters are only for tests (HashParams::insecure_for_tests)"
                ),
            ));
        }
        Ok(HashParams {
            memory_kib,
            iterations,
            parallelism,
            insecure_for_tests: false,
        })
    }

    /// Any parameters, however weak, **for tests only**: hashes made with them can be
    /// cracked quickly. Their data form says so: `"insecure_for_tests": true`.
    pub fn insecure_for_tests(memory_kib: u32, iterations: u32, parallelism: u32) -> HashParams {
        HashParams {
            memory_kib,
            iterations,
            parallelism,
            insecure_for_tests: true,
        }
    }

    /// Memory in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }
    /// Iterations.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }
    /// Lanes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }
    /// Whether these were made by [`HashParams::insecure_for_tests`].
    pub fn is_insecure_for_tests(&self) -> bool {
        self.insecure_for_tests
    }

    pub(crate) fn argon2(&self) -> Result<argon2::Argon2<'static>, Error> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Settings,
                    IssueCode::InvalidSetting,
                    format!("argon2 parameters: {e}"),
                )
            })?;
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_hash_params_need_the_insecure_switch() {
        for (m, t, p) in [(19_455, 2, 1), (19_456, 1, 1), (19_456, 2, 0), (64, 1, 1)] {
            let err = HashParams::new(m, t, p).unwrap_err();
            assert_eq!(err.code(), IssueCode::WeakHashParams, "{m} {t} {p}");
            let json = serde_json::json!({"memory_kib": m, "iterations": t, "parallelism": p});
            assert!(serde_json::from_value::<HashParams>(json.clone()).is_err());
            assert_eq!(
                HashParams::from_value(json).unwrap_err().code(),
                IssueCode::WeakHashParams
            );
        }
        assert_eq!(HashParams::new(47_104, 2, 4).unwrap().parallelism(), 4);
        let fast = serde_json::json!({"memoryKib": 64, "iterations": 1, "insecureForTests": true});
        assert_eq!(
            HashParams::from_value(fast).unwrap(),
            HashParams::insecure_for_tests(64, 1, 1)
        );
        let insecure = HashParams::insecure_for_tests(64, 1, 1);
        let back: HashParams =
            serde_json::from_str(&serde_json::to_string(&insecure).unwrap()).unwrap();
        assert_eq!(back, insecure);
        assert_eq!(
            serde_json::to_string(&HashParams::default()).unwrap(),
            r#"{"memory_kib":19456,"iterations":2,"parallelism":1}"#
        );
    }
}
