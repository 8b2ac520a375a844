//! A provider credential as a user hands it in, and its validation against
//! the provider's spec (rule P1).
//!
//! Validation errors name fields, never values, and never the secret.

use std::collections::BTreeMap;
use std::fmt;

use crate::provider::kind::{Provider, ProviderRegistry};
use crate::secret::Secret;

/// The longest secret accepted, in bytes. Provider API keys are well under
/// a kilobyte; the limit only stops abuse of storage.
pub const MAX_SECRET_BYTES: usize = 4096;

/// The longest field value accepted, in bytes: room for a long cloud
/// resource id.
pub const MAX_FIELD_VALUE_BYTES: usize = 1024;

/// The longest field name echoed back in an error, in characters.
const ECHOED_NAME_CHARS: usize = 64;

/// A provider credential: the secret plus the non-secret fields the
/// provider needs, such as an AWS region (rule P1).
///
/// `Debug` shows the fields but never the secret.
///
/// ```
/// use access_tokens::{Provider, ProviderCredential, ProviderRegistry, Secret};
///
/// let credential = ProviderCredential::new(Secret::from("wJalrXUtnFEMI/K7MDENG"))
///     .with_field("access_key_id", "AKIAIOSFODNN7EXAMPLE")
///     .with_field("region", "us-east-1");
/// ProviderRegistry::default().validate(&Provider::AWS_BRAKET, &credential)?;
/// # Ok::<(), access_tokens::CredentialError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderCredential {
    secret: Secret,
    fields: BTreeMap<String, String>,
}

impl ProviderCredential {
    /// A credential made of `secret` and no fields yet.
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            fields: BTreeMap::new(),
        }
    }

    /// This credential with the field `name` set to `value`, replacing any
    /// earlier value.
    #[must_use]
    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// The secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The non-secret fields, by name.
    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    /// The value of the field `name`, if set.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Splits the credential into its secret and its fields.
    pub fn into_parts(self) -> (Secret, BTreeMap<String, String>) {
        (self.secret, self.fields)
    }
}

impl fmt::Debug for ProviderCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderCredential")
            .field("secret", &self.secret)
            .field("fields", &self.fields)
            .finish()
    }
}

impl ProviderRegistry {
    /// Checks `credential` against the spec of `provider` (rule P1).
    ///
    /// The secret must be non-blank, at most [`MAX_SECRET_BYTES`] bytes and
    /// free of control characters (a pasted line break would otherwise be
    /// stored and fail at the provider much later). Every field must be
    /// declared by the provider, every required field present, and every
    /// value non-empty, at most [`MAX_FIELD_VALUE_BYTES`] bytes and free of
    /// control characters. Values are taken as given, not trimmed.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`CredentialError`], checking in this
    /// order: the provider, the secret, each given field by name, then the
    /// required fields in the order the spec declares them.
    pub fn validate(
        &self,
        provider: &Provider,
        credential: &ProviderCredential,
    ) -> Result<(), CredentialError> {
        let Some(spec) = self.get(provider) else {
            return Err(CredentialError::UnknownProvider {
                provider: provider.clone(),
            });
        };

        let secret = credential.secret.expose_secret();
        if secret.trim().is_empty() {
            return Err(CredentialError::EmptySecret);
        }
        if secret.len() > MAX_SECRET_BYTES {
            return Err(CredentialError::SecretTooLong {
                max_bytes: MAX_SECRET_BYTES,
            });
        }
        if secret.chars().any(char::is_control) {
            return Err(CredentialError::SecretHasControlCharacters);
        }

        for (name, value) in &credential.fields {
            if spec.field_named(name).is_none() {
                return Err(CredentialError::UnknownField {
                    provider: provider.clone(),
                    field: name.chars().take(ECHOED_NAME_CHARS).collect(),
                });
            }
            let problem = if value.is_empty() {
                Some(FieldProblem::Empty)
            } else if value.len() > MAX_FIELD_VALUE_BYTES {
                Some(FieldProblem::TooLong {
                    max_bytes: MAX_FIELD_VALUE_BYTES,
                })
            } else if value.chars().any(char::is_control) {
                Some(FieldProblem::ControlCharacters)
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(CredentialError::InvalidField {
                    field: name.clone(),
                    problem,
                });
            }
        }

        let missing = spec
            .fields()
            .iter()
            .find(|field| field.is_required() && !credential.fields.contains_key(field.name()));
        if let Some(field) = missing {
            return Err(CredentialError::MissingField {
                provider: provider.clone(),
                field: field.name().to_owned(),
            });
        }
        Ok(())
    }
}

/// A provider credential was refused. It never holds the secret, nor any
/// field value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The provider is not registered.
    #[error("unknown provider `{provider}`")]
    UnknownProvider {
        /// The provider.
        provider: Provider,
    },
    /// The secret is empty or only whitespace.
    #[error("the secret is empty")]
    EmptySecret,
    /// The secret is longer than the limit.
    #[error("the secret is longer than {max_bytes} bytes")]
    SecretTooLong {
        /// The limit, [`MAX_SECRET_BYTES`].
        max_bytes: usize,
    },
    /// The secret holds a control character, such as a line break.
    #[error("the secret contains control characters")]
    SecretHasControlCharacters,
    /// A required field is missing.
    #[error("provider `{provider}` requires the field `{field}`")]
    MissingField {
        /// The provider.
        provider: Provider,
        /// The missing field's name.
        field: String,
    },
    /// A field the provider does not declare was given.
    #[error("provider `{provider}` has no field `{field}`")]
    UnknownField {
        /// The provider.
        provider: Provider,
        /// The field's name, cut to 64 characters.
        field: String,
    },
    /// A declared field has an unacceptable value.
    #[error("the field `{field}` {problem}")]
    InvalidField {
        /// The field's name.
        field: String,
        /// What is wrong with its value.
        problem: FieldProblem,
    },
}

/// What is wrong with a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// The value is empty.
    #[error("is empty")]
    Empty,
    /// The value is longer than the limit.
    #[error("is longer than {max_bytes} bytes")]
    TooLong {
        /// The limit, [`MAX_FIELD_VALUE_BYTES`].
        max_bytes: usize,
    },
    /// The value holds a control character.
    #[error("contains control characters")]
    ControlCharacters,
}

#[cfg(test)]
mod tests {

    use super::*;

    const SECRET: &str = "s3cr3t-Value-0123456789";

    fn braket() -> ProviderCredential {
        ProviderCredential::new(Secret::from(SECRET))
            .with_field("access_key_id", "AKIAIOSFODNN7EXAMPLE")
            .with_field("region", "us-east-1")
    }

    fn check(provider: &Provider, credential: &ProviderCredential) -> Result<(), CredentialError> {
        ProviderRegistry::default().validate(provider, credential)
    }

    #[test]
    fn p1_a_complete_credential_is_accepted() {
        assert_eq!(check(&Provider::AWS_BRAKET, &braket()), Ok(()));
        let ibm = ProviderCredential::new(Secret::from(SECRET));
        assert_eq!(check(&Provider::IBM_QUANTUM, &ibm), Ok(()));
        assert_eq!(
            check(
                &Provider::IBM_QUANTUM,
                &ibm.with_field("instance", "crn:v1")
            ),
            Ok(())
        );
    }

    #[test]
    fn p1_a_credential_missing_a_required_field_is_refused() {
        let mut credential = braket();
        credential.fields.remove("region");
        assert_eq!(
            check(&Provider::AWS_BRAKET, &credential),
            Err(CredentialError::MissingField {
                provider: Provider::AWS_BRAKET,
                field: "region".to_owned()
            })
        );
        let cloud = ProviderCredential::new(Secret::from(SECRET));
        assert!(matches!(
            check(&Provider::IBM_CLOUD, &cloud),
            Err(CredentialError::MissingField { field, .. }) if field == "service_instance"
        ));
    }

    #[test]
    fn p1_unknown_fields_and_providers_are_refused() {
        let credential = braket().with_field("profile", "default");
        assert!(matches!(
            check(&Provider::AWS_BRAKET, &credential),
            Err(CredentialError::UnknownField { field, .. }) if field == "profile"
        ));
        let nobody = Provider::new("nobody").unwrap();
        assert!(matches!(
            check(&nobody, &braket()),
            Err(CredentialError::UnknownProvider { .. })
        ));
    }

    #[test]
    fn p1_bad_secrets_are_refused_without_echoing_them() {
        let cases = [
            ("", CredentialError::EmptySecret),
            ("  \t", CredentialError::EmptySecret),
            ("abc\ndef", CredentialError::SecretHasControlCharacters),
        ];
        for (secret, expected) in cases {
            let credential = ProviderCredential::new(Secret::from(secret));
            assert_eq!(check(&Provider::IONQ, &credential), Err(expected));
        }

        let long = "x".repeat(MAX_SECRET_BYTES + 1);
        let error = check(
            &Provider::IONQ,
            &ProviderCredential::new(Secret::from(long.as_str())),
        )
        .unwrap_err();
        assert_eq!(error, CredentialError::SecretTooLong { max_bytes: 4096 });
        assert!(!error.to_string().contains("xxxx"));
        let at_limit = ProviderCredential::new(Secret::from(&long[1..]));
        assert_eq!(check(&Provider::IONQ, &at_limit), Ok(()));
    }

    #[test]
    fn p1_bad_field_values_are_refused() {
        let cases = [
            ("", FieldProblem::Empty),
            ("us-east-1\n", FieldProblem::ControlCharacters),
            (
                &*"r".repeat(MAX_FIELD_VALUE_BYTES + 1),
                FieldProblem::TooLong { max_bytes: 1024 },
            ),
        ];
        for (value, problem) in cases {
            let credential = braket().with_field("region", value);
            assert_eq!(
                check(&Provider::AWS_BRAKET, &credential),
                Err(CredentialError::InvalidField {
                    field: "region".to_owned(),
                    problem
                })
            );
        }
    }

    #[test]
    fn p1_debug_of_a_credential_hides_the_secret() {
        let shown = format!("{:?}", braket());
        assert!(!shown.contains(SECRET));
        assert!(shown.contains("us-east-1"));
    }
}
