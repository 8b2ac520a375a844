//! A tour of personal access tokens, in memory: a user and an organization,
//! a token for the quantum SDK, authentication inside the organization, a
//! refusal for a missing scope, rotation and revocation.
//!
//! Run it with `cargo run --example quickstart`.

use std::net::{IpAddr, Ipv4Addr};

use access_tokens::{
    AccessService, Error, ExecutionContext, MemoryAuditLog, MemoryStore, MintRequest, PepperId,
    PepperRing, Principal, Role, ScopeSet, TokenFilter,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The pepper keys the stored digests of every token. A real host loads
    // it from its secret store; it never lives in the database.
    let pepper = PepperRing::new(PepperId(1), b"example pepper: load from a vault")?;
    let service = AccessService::builder(MemoryStore::new(), MemoryAuditLog::new(), pepper).build();

    println!("1. Accounts");
    let ada = service.create_user("ada").await?;
    let grace = service.create_user("grace").await?;
    let ada_session = Principal::session(ada.id);
    let lab = service
        .create_organization(&ada_session, "quantum-lab")
        .await?;
    service
        .add_member(&ada_session, lab.id, grace.id, Role::Viewer)
        .await?;
    println!(
        "   ada owns the organization {}; grace joins it as a viewer",
        lab.name
    );

    println!("\n2. Grace mints a token for the quantum SDK");
    let grace_session = Principal::session(grace.id);
    let request = MintRequest::new("laptop SDK", ScopeSet::QUANTUM_SDK);
    let minted = service.mint(&grace_session, request).await?;
    let expires = minted
        .token
        .expires_at
        .map_or("never".to_owned(), |at| at.format("%F %R UTC").to_string());
    println!("   name:    {}", minted.token.name);
    println!("   scopes:  {}", minted.token.scopes);
    println!("   expires: {expires}");
    println!("   token:   {}", minted.secret.expose_secret());
    println!("   (shown once: only its keyed digest is stored)");

    println!("\n3. The SDK sends it with a request inside the organization");
    let client = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    let principal = service
        .authenticate(minted.secret.expose_secret(), client)
        .await?;
    let in_lab = ExecutionContext::Organization(lab.id);
    let grant = service
        .authorize(&principal, ScopeSet::QUANTUM_SDK, in_lab)
        .await?;
    let role = grant.role.map_or("none", Role::as_str);
    println!(
        "   authenticated as grace, acting in {} as a {role}",
        lab.name
    );

    println!("\n4. A command-line token lacks the quantum_tokens scope");
    let cli = service
        .mint(
            &grace_session,
            MintRequest::new("terminal", ScopeSet::COMMAND_LINE),
        )
        .await?;
    let cli_principal = service
        .authenticate(cli.secret.expose_secret(), client)
        .await?;
    match service
        .authorize(&cli_principal, ScopeSet::QUANTUM_SDK, in_lab)
        .await
    {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => println!("   unexpectedly allowed"),
    }

    println!("\n5. The SDK token is rotated");
    let rotated = service
        .rotate(&grace_session, minted.token.id, None)
        .await?;
    println!("   new token: {}", rotated.secret.expose_secret());
    match service
        .authenticate(minted.secret.expose_secret(), client)
        .await
    {
        Err(Error::InvalidToken(invalid)) => {
            println!(
                "   old token refused: {invalid} (logged reason: {})",
                invalid.reason()
            );
        }
        other => println!("   unexpected: {other:?}"),
    }
    service
        .authenticate(rotated.secret.expose_secret(), client)
        .await?;
    println!("   new token accepted");

    println!("\n6. Grace revokes the new token");
    service.revoke(&grace_session, rotated.token.id).await?;
    let refused = service
        .authenticate(rotated.secret.expose_secret(), client)
        .await;
    println!(
        "   authenticating again: {}",
        refused
            .err()
            .map_or("accepted".to_owned(), |e| e.to_string())
    );

    println!("\n7. Grace's tokens");
    let now = chrono::Utc::now();
    for token in service.tokens(&grace_session, TokenFilter::ALL).await? {
        let state = format!("{:?}", token.state(now)).to_lowercase();
        println!(
            "   {:<12} {:<20} {state}",
            token.name,
            token.scopes.to_string()
        );
    }

    println!("\n8. What the audit log saw");
    for event in service.audit().events() {
        println!("   {:?}", event.kind);
    }
    Ok(())
}
