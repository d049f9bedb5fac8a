//! The little a keystore needs to know about its certificates: their names, to link a
//! chain by issuer, and a readable fallback alias.

use crate::FormatError;

/// A certificate's subject and issuer, as the raw DER of each name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Names {
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
}

impl Names {
    fn self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// Parses `der` as X.509 and returns its names.
pub(super) fn names(der: &[u8]) -> Result<Names, FormatError> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(Names {
            subject: cert.subject().as_raw().to_vec(),
            issuer: cert.issuer().as_raw().to_vec(),
        }),
        _ => Err(FormatError::Keystore(
            "a certificate is not X.509 DER".into(),
        )),
    }
}

/// The positions in `certs` of the chain that starts at `leaf`: the leaf, then each
/// certificate whose subject is the previous one's issuer, until a self-issued one or a
/// missing link. Never loops.
pub(super) fn chain_from(leaf: usize, certs: &[Names]) -> Vec<usize> {
    let mut chain = vec![leaf];
    let mut current = leaf;
    while !certs[current].self_issued() {
        let next = certs.iter().enumerate().position(|(index, candidate)| {
            !chain.contains(&index) && candidate.subject == certs[current].issuer
        });
        match next {
            Some(index) => {
                chain.push(index);
                current = index;
            }
            None => break,
        }
    }
    chain
}

/// The position of the end-entity certificate: the first that issued none of the others.
pub(super) fn end_entity(certs: &[Names]) -> Option<usize> {
    (0..certs.len()).find(|&index| {
        !certs.iter().enumerate().any(|(other, candidate)| {
            other != index && candidate.issuer == certs[index].subject && !candidate.self_issued()
        })
    })
}

/// Makes aliases unique (ignoring case) by appending `-2`, `-3`, ...; an entry without a
/// name gets the next free number, as keytool names unnamed PKCS#12 entries.
#[derive(Debug, Default)]
pub(super) struct Aliases {
    taken: Vec<String>,
}

impl Aliases {
    pub(super) fn unique(&mut self, wanted: Option<&str>) -> String {
        let free = |taken: &[String], candidate: &str| {
            !taken
                .iter()
                .any(|t| t.to_lowercase() == candidate.to_lowercase())
        };
        let alias = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
            Some(base) => (1..)
                .map(|n| {
                    if n == 1 {
                        base.to_owned()
                    } else {
                        format!("{base}-{n}")
                    }
                })
                .find(|candidate| free(&self.taken, candidate)),
            None => (1..)
                .map(|n: u32| n.to_string())
                .find(|candidate| free(&self.taken, candidate)),
        }
        .unwrap_or_default();
        self.taken.push(alias.clone());
        alias
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(subject: &str, issuer: &str) -> Names {
        Names {
            subject: subject.as_bytes().to_vec(),
            issuer: issuer.as_bytes().to_vec(),
        }
    }

    #[test]
    fn chains_follow_issuers_in_any_order() {
        let certs = [n("root", "root"), n("leaf", "int"), n("int", "root")];
        assert_eq!(end_entity(&certs), Some(1));
        assert_eq!(chain_from(1, &certs), vec![1, 2, 0]);
        let looped = [n("a", "b"), n("b", "a")];
        assert_eq!(chain_from(0, &looped), vec![0, 1]);
    }

    #[test]
    fn aliases_are_unique_ignoring_case() {
        let mut aliases = Aliases::default();
        assert_eq!(aliases.unique(Some("Server")), "Server");
        assert_eq!(aliases.unique(Some("server")), "server-2");
        assert_eq!(aliases.unique(None), "1");
        assert_eq!(aliases.unique(Some(" ")), "2");
    }
}
