//! Whose quantum-backend account a job runs on: an organization with an
//! owner, a maintainer and a viewer; an organization token for IBM Quantum;
//! jobs in organization and personal context; the platform credential; and
//! the role rules on removing a token.
//!
//! Run it with `cargo run --example organization_jobs`.

use std::sync::Arc;

use access_tokens::{
    AccessService, Error, ExecutionContext, KeyId, KeyRing, MemoryAuditLog, MemoryStore, PepperId,
    PepperRing, Principal, Provider, ProviderCredential, ProviderTokenId, ProviderTokenOwner,
    ResolutionPolicy, Role, SealingKey, Secret, StoreProviderToken, SystemRandom,
};

type Service = AccessService<Arc<MemoryStore>, Arc<MemoryAuditLog>, Arc<KeyRing>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(MemoryStore::new());
    let audit = Arc::new(MemoryAuditLog::new());
    // Both keys come from the host's secret store in a real deployment.
    let pepper = PepperRing::new(PepperId(1), b"example pepper: load from a vault")?;
    let sealing_key = SealingKey::new(KeyId::new("2026-12"), *b"example sealing key, 32 bytes!!!");
    let key_ring = Arc::new(KeyRing::new(sealing_key, [], Arc::new(SystemRandom))?);

    // Platform credential for D-Wave only; member fallback off (the default).
    let strict = ResolutionPolicy::default().with_platform_credential(Provider::DWAVE_LEAP);
    let service = build_service(&store, &audit, &pepper, &key_ring, strict);

    println!("An organization and its members");
    let olga = service.create_user("olga").await?;
    let max = service.create_user("max").await?;
    let vera = service.create_user("vera").await?;
    let (olga_s, max_s, vera_s) = (
        Principal::session(olga.id),
        Principal::session(max.id),
        Principal::session(vera.id),
    );
    let lab = service.create_organization(&olga_s, "quantum-lab").await?;
    service
        .add_member(&olga_s, lab.id, max.id, Role::Maintainer)
        .await?;
    service
        .add_member(&olga_s, lab.id, vera.id, Role::Viewer)
        .await?;
    println!(
        "  olga (owner), max (maintainer), vera (viewer) in {}",
        lab.name
    );

    println!("\nmax, a maintainer, stores the organization's IBM Quantum token");
    let lab_owner = ProviderTokenOwner::Organization(lab.id);
    let credential = ProviderCredential::new(Secret::from("ibmq-lab-token-7f3a9c2e51d04b88"))
        .with_field("instance", "ibm-q/open/main");
    let request = StoreProviderToken::new(lab_owner, Provider::IBM_QUANTUM, credential);
    let lab_token = service.store_provider_token(&max_s, request).await?;
    for token in service.provider_tokens(&vera_s, lab_owner).await? {
        println!(
            "  vera sees: {} {} (secret {})",
            token.provider, token.id, token.hint
        );
    }

    println!("\nvera stores her own IonQ token");
    let credential = ProviderCredential::new(Secret::from("ionq-vera-key-0c9d8e7f6a5b4c3d"));
    let request = StoreProviderToken::new(
        ProviderTokenOwner::User(vera.id),
        Provider::IONQ,
        credential,
    );
    service.store_provider_token(&vera_s, request).await?;

    let in_lab = ExecutionContext::Organization(lab.id);
    job(
        &service,
        &vera_s,
        "vera runs a job in quantum-lab on IBM Quantum",
        in_lab,
        Provider::IBM_QUANTUM,
        None,
    )
    .await;
    job(
        &service,
        &vera_s,
        "vera runs a personal job on IonQ",
        ExecutionContext::Personal,
        Provider::IONQ,
        None,
    )
    .await;
    job(
        &service,
        &vera_s,
        "vera runs a job in quantum-lab on D-Wave Leap",
        in_lab,
        Provider::DWAVE_LEAP,
        None,
    )
    .await;
    job(
        &service,
        &vera_s,
        "vera runs a job in quantum-lab on IonQ",
        in_lab,
        Provider::IONQ,
        None,
    )
    .await;
    job(
        &service,
        &vera_s,
        "vera names the lab's IBM token in a personal job",
        ExecutionContext::Personal,
        Provider::IBM_QUANTUM,
        Some(lab_token.id),
    )
    .await;

    println!("\nThe same IonQ job under a policy with the member fallback on");
    let lenient = ResolutionPolicy::default().with_member_fallback(true);
    let lenient = build_service(&store, &audit, &pepper, &key_ring, lenient);
    job(
        &lenient,
        &vera_s,
        "vera runs a job in quantum-lab on IonQ",
        in_lab,
        Provider::IONQ,
        None,
    )
    .await;

    println!("\nmax tries to remove the organization's IBM Quantum token");
    match service.remove_provider_token(&max_s, lab_token.id).await {
        Err(error) => println!("  refused: {error}"),
        Ok(_) => println!("  removed (unexpected)"),
    }
    service.remove_provider_token(&olga_s, lab_token.id).await?;
    println!("  olga, an owner, removes it");
    Ok(())
}

/// Resolves one job and prints the decision, its billing and its trace.
async fn job(
    service: &Service,
    principal: &Principal,
    title: &str,
    context: ExecutionContext,
    provider: Provider,
    explicit: Option<ProviderTokenId>,
) {
    println!("\n{title}");
    match service
        .resolve_provider_token(principal, context, &provider, explicit)
        .await
    {
        Ok(resolved) => {
            let resolution = resolved.resolution();
            println!("  uses:   {}", resolution.source());
            println!("  billed: {}", resolution.billing());
            if let Some(credential) = resolved.credential() {
                // This is where a host hands the secret to the provider's API.
                println!(
                    "  hands over a {}-character credential",
                    credential.secret().len()
                );
            }
            print_trace(&resolution.trace().to_string());
        }
        Err(Error::Resolution(failure)) => {
            println!("  fails:  {failure}");
            print_trace(&failure.trace().to_string());
        }
        Err(error) => println!("  error:  {error}"),
    }
}

fn print_trace(trace: &str) {
    println!("  trace:");
    for line in trace.lines() {
        println!("    {line}");
    }
}

fn build_service(
    store: &Arc<MemoryStore>,
    audit: &Arc<MemoryAuditLog>,
    pepper: &PepperRing,
    key_ring: &Arc<KeyRing>,
    policy: ResolutionPolicy,
) -> Service {
    AccessService::builder(Arc::clone(store), Arc::clone(audit), pepper.clone())
        .sealer(Arc::clone(key_ring))
        .resolution_policy(policy)
        .build()
}
