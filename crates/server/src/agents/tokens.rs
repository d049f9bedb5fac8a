//! Enrolment tokens: `cfa1.<secret>.<ca-pin>`, the secret 32 random bytes (base64url, no
//! padding), the pin the SHA-256 of the agents CA (so a new agent knows which server it
//! talks to before it trusts anything). The store keeps only the SHA-256 of the secret,
//! with the node, the expiry and whether it was used; using one is a compare-and-swap,
//! so a token enrols one agent even when two try at once.

use super::records::{key, TokenRecord};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use certfleet_store::{CasOutcome, Expect, Storage};
use std::fmt;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The version tag that starts every token.
pub const TOKEN_TAG: &str = "cfa1";
/// How long a token stays valid when the request does not say, in seconds.
pub const DEFAULT_TTL_SECONDS: u64 = 3600;
/// The longest validity a token may be given, in seconds (30 days).
pub const MAX_TTL_SECONDS: u64 = 30 * 24 * 3600;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this server made (or not a token at all).
    Unknown,
    /// An agent enrolled with it already.
    Used,
    /// Its time ran out.
    Expired,
    /// The store failed.
    Store(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Unknown => f.write_str("unknown enrolment token"),
            TokenError::Used => f.write_str("enrolment token already used"),
            TokenError::Expired => f.write_str("enrolment token expired"),
            TokenError::Store(message) => f.write_str(message),
        }
    }
}

/// A new token (shown once) and the record kept for it.
pub struct NewToken {
    /// The token.
    pub token: Zeroizing<String>,
    /// Its record.
    pub record: TokenRecord,
}

fn hash_hex(secret: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        secret.as_bytes(),
    ))
}

/// The secret of `token`, when it has the token's form.
fn secret_of(token: &str) -> Option<&str> {
    let mut parts = token.trim().split('.');
    let (Some(TOKEN_TAG), Some(secret), Some(pin), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let plausible =
        secret.len() == 43 && pin.len() == 64 && pin.bytes().all(|b| b.is_ascii_hexdigit());
    plausible.then_some(secret)
}

/// Makes and stores a token for `node` of `platform`, valid for `ttl_seconds` from `now`.
pub async fn create(
    store: &dyn Storage,
    platform: &str,
    node: &str,
    ca_pin: &str,
    ttl_seconds: u64,
    now: OffsetDateTime,
) -> Result<NewToken, TokenError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(bytes.as_mut())
        .map_err(|_| TokenError::Store("the system random generator failed".into()))?;
    let secret = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()));
    let ttl = i64::try_from(ttl_seconds).unwrap_or(i64::MAX);
    let record = TokenRecord {
        platform: platform.to_owned(),
        node: node.to_owned(),
        expires_at: now + time::Duration::seconds(ttl),
        used: false,
    };
    let key = key(&["tokens", &hash_hex(&secret)]).map_err(TokenError::Store)?;
    let value = serde_json::to_vec(&record).map_err(|err| TokenError::Store(err.to_string()))?;
    store
        .put(&key, &value)
        .await
        .map_err(|err| TokenError::Store(format!("storing an enrolment token: {err}")))?;
    Ok(NewToken {
        token: Zeroizing::new(format!("{TOKEN_TAG}.{}.{ca_pin}", secret.as_str())),
        record,
    })
}

/// Uses `token` at `now`: its record, now marked used, or why it is refused.
pub async fn consume(
    store: &dyn Storage,
    token: &str,
    now: OffsetDateTime,
) -> Result<TokenRecord, TokenError> {
    let secret = secret_of(token).ok_or(TokenError::Unknown)?;
    let key = key(&["tokens", &hash_hex(secret)]).map_err(TokenError::Store)?;
    let store_error = |err: &dyn fmt::Display| TokenError::Store(format!("enrolment token: {err}"));
    let entry = store
        .get(&key)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or(TokenError::Unknown)?;
    let mut record: TokenRecord =
        serde_json::from_slice(&entry.value).map_err(|e| store_error(&e))?;
    if record.used {
        return Err(TokenError::Used);
    }
    if now >= record.expires_at {
        return Err(TokenError::Expired);
    }
    record.used = true;
    let value = serde_json::to_vec(&record).map_err(|e| store_error(&e))?;
    match store
        .compare_and_swap(&key, Expect::Revision(entry.revision), &value)
        .await
        .map_err(|e| store_error(&e))?
    {
        CasOutcome::Swapped(_) => Ok(record),
        // Someone used it between the read and the swap.
        CasOutcome::Conflict(_) => Err(TokenError::Used),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_store::memory::MemoryStore;

    const PIN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[tokio::test]
    async fn a_token_enrols_once_and_only_before_it_expires() {
        let store = MemoryStore::new();
        let now = OffsetDateTime::now_utc();
        let made = create(&store, "qms", "node-1", PIN, 60, now).await.unwrap();
        assert!(made.token.starts_with("cfa1."));
        assert!(made.token.ends_with(PIN));
        let raw = store.list(&key(&["tokens"]).unwrap()).await.unwrap();
        assert_eq!(raw.len(), 1);
        let secret = secret_of(&made.token).unwrap();
        assert!(!String::from_utf8_lossy(&raw[0].value).contains(secret));
        assert!(!raw[0].key.as_str().contains(secret));

        let record = consume(&store, &made.token, now).await.unwrap();
        assert_eq!(
            (record.platform.as_str(), record.node.as_str()),
            ("qms", "node-1")
        );
        assert_eq!(
            consume(&store, &made.token, now).await,
            Err(TokenError::Used)
        );

        let late = create(&store, "qms", "node-2", PIN, 1, now).await.unwrap();
        let after = now + time::Duration::seconds(2);
        assert_eq!(
            consume(&store, &late.token, after).await,
            Err(TokenError::Expired)
        );

        let forged = format!("cfa1.{}.{PIN}", "A".repeat(43));
        assert_eq!(
            consume(&store, &forged, now).await,
            Err(TokenError::Unknown)
        );
        assert_eq!(
            consume(&store, "nonsense", now).await,
            Err(TokenError::Unknown)
        );
        assert_eq!(TokenError::Used.to_string(), "enrolment token already used");
    }
}
