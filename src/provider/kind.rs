//! Providers, the credential fields each one needs, and the registry that
//! knows them (rule P1).

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

/// The longest provider id and credential field name, in bytes.
const MAX_NAME_LEN: usize = 64;

/// A quantum backend provider, named by a stable snake_case id such as
/// `ibm_quantum`.
///
/// Cloning is cheap and equality, ordering and hashing go by the id. The
/// known providers are constants; a host names its own with
/// [`Provider::new`] and describes it in a [`ProviderRegistry`].
///
/// ```
/// use access_tokens::Provider;
///
/// let provider: Provider = "aws_braket".parse()?;
/// assert_eq!(provider, Provider::AWS_BRAKET);
/// assert_eq!(provider.to_string(), "aws_braket");
/// # Ok::<(), access_tokens::InvalidProviderId>(())
/// ```
#[derive(Clone)]
pub struct Provider(Id);

#[derive(Clone)]
enum Id {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Provider {
    /// IBM Quantum (`ibm_quantum`).
    pub const IBM_QUANTUM: Provider = Provider(Id::Static("ibm_quantum"));
    /// IBM Cloud (`ibm_cloud`).
    pub const IBM_CLOUD: Provider = Provider(Id::Static("ibm_cloud"));
    /// D-Wave Leap (`dwave_leap`).
    pub const DWAVE_LEAP: Provider = Provider(Id::Static("dwave_leap"));
    /// IonQ (`ionq`).
    pub const IONQ: Provider = Provider(Id::Static("ionq"));
    /// Amazon Braket (`aws_braket`).
    pub const AWS_BRAKET: Provider = Provider(Id::Static("aws_braket"));
    /// Azure Quantum (`azure_quantum`).
    pub const AZURE_QUANTUM: Provider = Provider(Id::Static("azure_quantum"));

    /// The providers this crate knows out of the box.
    pub const KNOWN: [Provider; 6] = [
        Self::IBM_QUANTUM,
        Self::IBM_CLOUD,
        Self::DWAVE_LEAP,
        Self::IONQ,
        Self::AWS_BRAKET,
        Self::AZURE_QUANTUM,
    ];

    /// The provider with this id: 1 to 64 bytes of lowercase ASCII letters,
    /// digits and underscores, starting with a letter.
    ///
    /// # Errors
    ///
    /// [`InvalidProviderId`] if the id is not of that form.
    pub fn new(id: &str) -> Result<Self, InvalidProviderId> {
        if let Some(known) = Self::KNOWN.iter().find(|known| known.as_str() == id) {
            return Ok(known.clone());
        }
        if is_snake_case_name(id) {
            Ok(Self(Id::Shared(Arc::from(id))))
        } else {
            Err(InvalidProviderId)
        }
    }

    /// The provider's id, such as `ibm_quantum`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Id::Static(id) => id,
            Id::Shared(id) => id,
        }
    }
}

/// Whether `name` is 1 to 64 bytes of `[a-z0-9_]`, starting with a letter.
pub(crate) fn is_snake_case_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let starts_with_letter = bytes.next().is_some_and(|first| first.is_ascii_lowercase());
    starts_with_letter
        && name.len() <= MAX_NAME_LEN
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Provider {}

impl PartialOrd for Provider {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Provider {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Provider {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Borrow<str> for Provider {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Provider({:?})", self.as_str())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = InvalidProviderId;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Self::new(id)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Provider {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Provider {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = <Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&id).map_err(<D::Error as serde::de::Error>::custom)
    }
}

/// A provider id that is not 1 to 64 bytes of `[a-z0-9_]` starting with a
/// letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a provider id is 1 to 64 lowercase letters, digits or underscores, starting with a letter"
)]
pub struct InvalidProviderId;

/// Whether a credential must carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Presence {
    /// A credential without the field is refused.
    Required,
    /// The field may be left out.
    Optional,
}

/// One non-secret field of a provider's credential, such as an AWS region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialField {
    name: Cow<'static, str>,
    presence: Presence,
    description: Cow<'static, str>,
}

impl CredentialField {
    /// The field's name, the key it is stored under: snake_case.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the field is required.
    pub fn presence(&self) -> Presence {
        self.presence
    }

    /// Whether the field is required.
    pub fn is_required(&self) -> bool {
        self.presence == Presence::Required
    }

    /// What the field holds, for forms and error messages.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// What a provider is called and what its credential consists of: the
/// secret and the non-secret fields beside it.
///
/// ```
/// use access_tokens::{Provider, ProviderSpec};
///
/// let spec = ProviderSpec::new(Provider::new("quantinuum")?, "Quantinuum", "API token")
///     .optional_field("project", "the project jobs are filed under");
/// assert_eq!(spec.fields().len(), 1);
/// # Ok::<(), access_tokens::InvalidProviderId>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSpec {
    provider: Provider,
    display_name: Cow<'static, str>,
    secret_description: Cow<'static, str>,
    fields: Vec<CredentialField>,
}

impl ProviderSpec {
    /// A provider whose credential is just a secret, described for users as
    /// `secret_description` (for example "API token").
    pub fn new(
        provider: Provider,
        display_name: impl Into<Cow<'static, str>>,
        secret_description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            provider,
            display_name: display_name.into(),
            secret_description: secret_description.into(),
            fields: Vec::new(),
        }
    }

    /// This spec with a field every credential must carry.
    #[must_use]
    pub fn required_field(
        self,
        name: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.field(name.into(), Presence::Required, description.into())
    }

    /// This spec with a field a credential may carry.
    #[must_use]
    pub fn optional_field(
        self,
        name: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.field(name.into(), Presence::Optional, description.into())
    }

    fn field(
        mut self,
        name: Cow<'static, str>,
        presence: Presence,
        description: Cow<'static, str>,
    ) -> Self {
        self.fields.push(CredentialField {
            name,
            presence,
            description,
        });
        self
    }

    /// The provider described.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The provider's name for people, such as "IBM Quantum".
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// What the secret is, such as "secret access key".
    pub fn secret_description(&self) -> &str {
        &self.secret_description
    }

    /// The non-secret fields, in the order they were declared.
    pub fn fields(&self) -> &[CredentialField] {
        &self.fields
    }

    /// The field named `name`, if the provider has one.
    pub fn field_named(&self, name: &str) -> Option<&CredentialField> {
        self.fields.iter().find(|field| field.name() == name)
    }

    /// The specs of the known providers.
    ///
    /// Azure Quantum takes a workspace access key as its secret, with the
    /// workspace's `resource_id` and `location` both required, since the
    /// workspace endpoint cannot be found without its location.
    fn known() -> [ProviderSpec; 6] {
        [
            Self::new(Provider::IBM_QUANTUM, "IBM Quantum", "API token").optional_field(
                "instance",
                "the instance (CRN or hub/group/project) to run on",
            ),
            Self::new(Provider::IBM_CLOUD, "IBM Cloud", "API key")
                .required_field("service_instance", "the CRN of the service instance"),
            Self::new(Provider::DWAVE_LEAP, "D-Wave Leap", "API token"),
            Self::new(Provider::IONQ, "IonQ", "API key"),
            Self::new(Provider::AWS_BRAKET, "Amazon Braket", "secret access key")
                .required_field("access_key_id", "the access key id paired with the secret")
                .required_field("region", "the AWS region, such as us-east-1"),
            Self::new(
                Provider::AZURE_QUANTUM,
                "Azure Quantum",
                "workspace access key",
            )
            .required_field(
                "resource_id",
                "the resource id of the Azure Quantum workspace",
            )
            .required_field("location", "the workspace's Azure region, such as westus"),
        ]
    }
}

/// The providers a host accepts tokens for, each with its [`ProviderSpec`].
///
/// [`ProviderRegistry::default`] holds the known providers; a host adds its
/// own with [`ProviderRegistry::register`].
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    specs: BTreeMap<Provider, ProviderSpec>,
}

impl Default for ProviderRegistry {
    fn default() -> Self {
        let specs = ProviderSpec::known()
            .into_iter()
            .map(|spec| (spec.provider.clone(), spec))
            .collect();
        Self { specs }
    }
}

impl ProviderRegistry {
    /// A registry that knows no provider at all.
    pub fn empty() -> Self {
        Self {
            specs: BTreeMap::new(),
        }
    }

    /// Adds a provider.
    ///
    /// # Errors
    ///
    /// - [`RegistryError::DuplicateProvider`] if the provider is already
    ///   registered (a known one cannot be redefined);
    /// - [`RegistryError::InvalidFieldName`] if a field name is not
    ///   snake_case;
    /// - [`RegistryError::DuplicateField`] if two fields share a name.
    pub fn register(&mut self, spec: ProviderSpec) -> Result<(), RegistryError> {
        if self.specs.contains_key(&spec.provider) {
            return Err(RegistryError::DuplicateProvider {
                provider: spec.provider,
            });
        }
        for (index, field) in spec.fields.iter().enumerate() {
            if !is_snake_case_name(field.name()) {
                return Err(RegistryError::InvalidFieldName {
                    provider: spec.provider.clone(),
                });
            }
            let earlier = spec.fields.iter().take(index);
            if earlier
                .into_iter()
                .any(|other| other.name() == field.name())
            {
                return Err(RegistryError::DuplicateField {
                    provider: spec.provider.clone(),
                    field: field.name().to_owned(),
                });
            }
        }

        self.specs.insert(spec.provider.clone(), spec);
        Ok(())
    }

    /// The spec of `provider`, if registered.
    pub fn get(&self, provider: &Provider) -> Option<&ProviderSpec> {
        self.specs.get(provider)
    }

    /// The spec of the provider with this id, if registered.
    pub fn get_by_id(&self, id: &str) -> Option<&ProviderSpec> {
        self.specs.get(id)
    }

    /// Every registered provider's spec, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &ProviderSpec> {
        self.specs.values()
    }
}

/// A provider could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A provider with this id is already registered.
    #[error("provider `{provider}` is already registered")]
    DuplicateProvider {
        /// The provider.
        provider: Provider,
    },
    /// A field name is not 1 to 64 bytes of `[a-z0-9_]` starting with a
    /// letter.
    #[error("provider `{provider}` declares a field whose name is not snake_case")]
    InvalidFieldName {
        /// The provider.
        provider: Provider,
    },
    /// Two fields share a name.
    #[error("provider `{provider}` declares the field `{field}` twice")]
    DuplicateField {
        /// The provider.
        provider: Provider,
        /// The field's name.
        field: String,
    },
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn p1_known_providers_have_stable_snake_case_ids() {
        let ids: Vec<&str> = Provider::KNOWN.iter().map(Provider::as_str).collect();
        assert_eq!(
            ids,
            [
                "ibm_quantum",
                "ibm_cloud",
                "dwave_leap",
                "ionq",
                "aws_braket",
                "azure_quantum"
            ]
        );
        for provider in Provider::KNOWN {
            assert_eq!(provider.as_str().parse::<Provider>().unwrap(), provider);
        }
    }

    #[test]
    fn p1_provider_ids_are_validated() {
        for bad in [
            "",
            "IBM",
            "1qbit",
            "ibm-quantum",
            "ibm quantum",
            &"a".repeat(65),
        ] {
            assert_eq!(Provider::new(bad), Err(InvalidProviderId), "{bad:?}");
        }
        let custom = Provider::new("quantinuum").unwrap();
        assert_eq!(custom.clone(), custom);
        assert_eq!(format!("{custom:?}"), r#"Provider("quantinuum")"#);
    }

    #[test]
    fn p1_default_registry_knows_every_known_provider_with_a_display_name() {
        let registry = ProviderRegistry::default();
        for provider in Provider::KNOWN {
            let spec = registry.get(&provider).unwrap();
            assert!(!spec.display_name().is_empty());
        }
        let braket = registry.get_by_id("aws_braket").unwrap();
        let required: Vec<&str> = braket
            .fields()
            .iter()
            .filter(|f| f.is_required())
            .map(|f| f.name())
            .collect();
        assert_eq!(required, ["access_key_id", "region"]);
        assert!(
            registry
                .get_by_id("ibm_cloud")
                .unwrap()
                .field_named("service_instance")
                .is_some()
        );
        assert!(!registry.get_by_id("ibm_quantum").unwrap().fields()[0].is_required());
    }

    #[test]
    fn p1_a_host_registers_its_own_provider_but_not_twice() {
        let mut registry = ProviderRegistry::default();
        let quantinuum = Provider::new("quantinuum").unwrap();
        registry
            .register(ProviderSpec::new(
                quantinuum.clone(),
                "Quantinuum",
                "API token",
            ))
            .unwrap();
        assert!(registry.get(&quantinuum).is_some());

        let again = registry.register(ProviderSpec::new(quantinuum.clone(), "Again", "key"));
        assert_eq!(
            again,
            Err(RegistryError::DuplicateProvider {
                provider: quantinuum
            })
        );
        let known = registry.register(ProviderSpec::new(Provider::IONQ, "IonQ", "key"));
        assert!(matches!(
            known,
            Err(RegistryError::DuplicateProvider { .. })
        ));
    }

    #[test]
    fn p1_a_spec_with_bad_or_repeated_field_names_is_refused() {
        let mut registry = ProviderRegistry::empty();
        let provider = Provider::new("rigetti").unwrap();
        let bad = ProviderSpec::new(provider.clone(), "Rigetti", "key").required_field("Bad", "");
        assert!(matches!(
            registry.register(bad),
            Err(RegistryError::InvalidFieldName { .. })
        ));
        let twice = ProviderSpec::new(provider, "Rigetti", "key")
            .required_field("region", "")
            .optional_field("region", "");
        assert!(matches!(
            registry.register(twice),
            Err(RegistryError::DuplicateField { .. })
        ));
    }
}
