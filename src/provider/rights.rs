//! What each organization role may do with the organization's provider
//! tokens (rule A6).

use std::fmt;

use crate::model::Role;

/// Something a member does with an organization's provider tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ProviderAction {
    /// See the tokens' metadata, masked.
    View,
    /// Run jobs on the tokens.
    RunJobs,
    /// Add a token, or replace one (rule P3).
    Store,
    /// Remove a token.
    Remove,
}

impl ProviderAction {
    /// Every action, in the order of the table in rule A6.
    pub const ALL: [ProviderAction; 4] = [Self::View, Self::RunJobs, Self::Store, Self::Remove];

    /// The lowest role that may take this action (rule A6).
    ///
    /// `run_jobs_minimum` is the host's policy for [`ProviderAction::RunJobs`]
    /// (`Role::Viewer` by default: every member).
    pub const fn minimum_role(self, run_jobs_minimum: Role) -> Role {
        match self {
            Self::View => Role::Viewer,
            Self::RunJobs => run_jobs_minimum,
            Self::Store => Role::Maintainer,
            Self::Remove => Role::Owner,
        }
    }

    /// Whether a member with `role` may take this action (rule A6).
    pub fn is_allowed_for(self, role: Role, run_jobs_minimum: Role) -> bool {
        role >= self.minimum_role(run_jobs_minimum)
    }

    /// The action's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::RunJobs => "run_jobs",
            Self::Store => "store",
            Self::Remove => "remove",
        }
    }
}

impl fmt::Display for ProviderAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a6_the_role_table_with_the_default_policy() {
        let table = [
            (ProviderAction::View, [true, true, true]),
            (ProviderAction::RunJobs, [true, true, true]),
            (ProviderAction::Store, [false, true, true]),
            (ProviderAction::Remove, [false, false, true]),
        ];
        for (action, allowed) in table {
            for (role, expected) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(
                    action.is_allowed_for(role, Role::Viewer),
                    expected,
                    "{role} {action}"
                );
            }
        }
    }

    #[test]
    fn a6_the_minimum_role_to_run_jobs_is_a_policy_setting() {
        let run = ProviderAction::RunJobs;
        assert!(!run.is_allowed_for(Role::Viewer, Role::Maintainer));
        assert!(run.is_allowed_for(Role::Maintainer, Role::Maintainer));
        assert!(!run.is_allowed_for(Role::Maintainer, Role::Owner));
        assert!(ProviderAction::View.is_allowed_for(Role::Viewer, Role::Owner));
    }
}
