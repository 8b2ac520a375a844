//! Scopes, the permissions a personal access token carries (rules S1–S5).
//!
//! A [`ScopeSet`] is a bit set, so the subset check of rule S3 is one
//! instruction and a set is `Copy`. Parsing refuses every name it does not
//! know: a typo must never silently drop a permission, nor grant one.

use std::fmt;
use std::str::FromStr;

/// A permission carried by a personal access token (rule S1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scope {
    /// Call the platform API as the token's user, within the user's role
    /// rights (rule S4).
    Api,
    /// Use the provider tokens in the user's reach when a job runs (rule S4).
    QuantumTokens,
}

impl Scope {
    /// Every known scope, in printing order.
    pub const ALL: [Scope; 2] = [Scope::Api, Scope::QuantumTokens];

    /// The scope's canonical name: `api` or `quantum_tokens`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::QuantumTokens => "quantum_tokens",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Self::Api => 1,
            Self::QuantumTokens => 2,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    /// Accepts exactly `api`, `quantum_tokens` and the spelling
    /// `quantum-tokens` (rule S1).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "api" => Ok(Self::Api),
            "quantum_tokens" | "quantum-tokens" => Ok(Self::QuantumTokens),
            _ => Err(UnknownScope {
                name: name.chars().take(64).collect(),
            }),
        }
    }
}

/// A scope name that is not one of the known scopes (rule S1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{name}`: the known scopes are `api` and `quantum_tokens`")]
pub struct UnknownScope {
    /// The name that was given, cut to 64 characters.
    pub name: String,
}

/// A set of scopes.
///
/// Printed as the scope names separated by single spaces, in the order of
/// [`Scope::ALL`]; parsed from names separated by spaces and/or commas.
///
/// ```
/// use access_tokens::{Scope, ScopeSet};
///
/// let held: ScopeSet = "api, quantum-tokens".parse()?;
/// assert_eq!(held.to_string(), "api quantum_tokens");
/// assert!(ScopeSet::COMMAND_LINE.is_subset(held));
/// assert!(held.contains(Scope::QuantumTokens));
/// # Ok::<(), access_tokens::UnknownScope>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// The empty set. A token never holds it (rule S2).
    pub const EMPTY: ScopeSet = ScopeSet(0);
    /// Every known scope: what an interactive session holds (rule S5).
    pub const ALL: ScopeSet = ScopeSet(Scope::Api.bit() | Scope::QuantumTokens.bit());
    /// What the command-line client needs: `{api}` (rule S3).
    pub const COMMAND_LINE: ScopeSet = ScopeSet(Scope::Api.bit());
    /// What the quantum SDK needs: `{api, quantum_tokens}` (rule S3).
    pub const QUANTUM_SDK: ScopeSet = ScopeSet(Scope::Api.bit() | Scope::QuantumTokens.bit());

    /// The set holding just `scope`.
    pub const fn only(scope: Scope) -> Self {
        Self(scope.bit())
    }

    /// This set with `scope` added.
    #[must_use]
    pub const fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    /// Whether the set holds `scope`.
    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is in `other` (rule S3: a request is
    /// allowed when its required set is a subset of the token's).
    pub const fn is_subset(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The scopes of `self` that `other` lacks.
    #[must_use]
    pub const fn difference(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }

    /// Whether the set holds no scope.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many scopes the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The scopes in the set, in the order of [`Scope::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        scopes.into_iter().fold(Self::EMPTY, Self::with)
    }
}

impl<const N: usize> From<[Scope; N]> for ScopeSet {
    fn from(scopes: [Scope; N]) -> Self {
        scopes.into_iter().collect()
    }
}

impl FromStr for ScopeSet {
    type Err = UnknownScope;

    /// Parses names separated by spaces and/or commas. Every name must be
    /// known (rule S1); an empty text gives the empty set, which minting
    /// refuses (rule S2).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|name| !name.is_empty())
            .map(Scope::from_str)
            .collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, scope) in self.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Scope::as_str))
            .finish()
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::{Scope, ScopeSet};
    use serde::de::Error as _;
    use serde::ser::SerializeSeq as _;

    impl serde::Serialize for Scope {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(self.as_str())
        }
    }

    impl<'de> serde::Deserialize<'de> for Scope {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            name.parse().map_err(D::Error::custom)
        }
    }

    /// A set is a list of names, so that JSON reads `["api", "quantum_tokens"]`.
    impl serde::Serialize for ScopeSet {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(self.len()))?;
            for scope in self.iter() {
                seq.serialize_element(&scope)?;
            }
            seq.end()
        }
    }

    impl<'de> serde::Deserialize<'de> for ScopeSet {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Ok(Vec::<Scope>::deserialize(deserializer)?
                .into_iter()
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s1_parses_exactly_the_known_names_and_the_hyphenated_spelling() {
        assert_eq!("api".parse(), Ok(Scope::Api));
        assert_eq!("quantum_tokens".parse(), Ok(Scope::QuantumTokens));
        assert_eq!("quantum-tokens".parse(), Ok(Scope::QuantumTokens));
        for bad in ["API", "read_api", "quantum tokens", "", "api "] {
            assert!(bad.parse::<Scope>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn s1_an_unknown_name_in_a_set_is_an_error_not_dropped() {
        let error = "api,sudo".parse::<ScopeSet>().unwrap_err();
        assert_eq!(error.name, "sudo");
    }

    #[test]
    fn s1_prints_the_canonical_spelling() {
        let set: ScopeSet = "quantum-tokens api".parse().unwrap();
        assert_eq!(set.to_string(), "api quantum_tokens");
        assert_eq!(format!("{set:?}"), r#"{"api", "quantum_tokens"}"#);
    }

    #[test]
    fn s3_presets() {
        assert_eq!(ScopeSet::COMMAND_LINE, ScopeSet::from([Scope::Api]));
        assert_eq!(
            ScopeSet::QUANTUM_SDK,
            ScopeSet::from([Scope::Api, Scope::QuantumTokens])
        );
        assert!(ScopeSet::COMMAND_LINE.is_subset(ScopeSet::QUANTUM_SDK));
        assert!(!ScopeSet::QUANTUM_SDK.is_subset(ScopeSet::COMMAND_LINE));
        assert_eq!(
            ScopeSet::QUANTUM_SDK.difference(ScopeSet::COMMAND_LINE),
            ScopeSet::only(Scope::QuantumTokens)
        );
    }
}
