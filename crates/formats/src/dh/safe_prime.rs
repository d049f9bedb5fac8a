//! Safe-prime generation for fresh DH parameters.
//!
//! A safe prime is p = 2q + 1 with q prime. The search, run on every core:
//! 1. pick a random q of `bits − 1` bits with q ≡ 11 (mod 12), so p ≡ 23 (mod 24): p is
//!    odd, not a multiple of 3, and 2 is a quadratic residue mod p (generator 2 then
//!    spans the prime-order subgroup, which `openssl dhparam -check` expects);
//! 2. sieve a window of candidates q + 12k, striking every k for which q or p has a
//!    prime factor below 2^20;
//! 3. for each survivor, a base-2 Fermat test on q, then on p;
//! 4. Miller-Rabin with random bases on q. Once q is prime, p is proven prime by
//!    Pocklington's criterion: q | p − 1, q > √p, 2^(p−1) ≡ 1 (mod p) (step 3), and
//!    gcd(2^2 − 1, p) = 1 since 3 ∤ p.

use super::DhError;
use num_bigint::BigUint;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// How far the search has got, reported to the caller's progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A candidate survived the sieve and was tested (OpenSSL prints `.`).
    Candidate,
    /// q passed the Fermat test; p is being tested (OpenSSL prints `+`).
    HalfPrime,
    /// A safe prime was found (OpenSSL prints `*`).
    Found,
}

/// Miller-Rabin rounds with random bases for q (error below 2^−64 for any input).
const ROUNDS: usize = 32;
/// Candidates per sieve window.
const WINDOW: usize = 1 << 16;
/// Sieve primes are below this bound.
const SIEVE_BOUND: u32 = 1 << 20;

/// A random safe prime of exactly `bits` bits, ≡ 23 (mod 24).
pub fn generate(bits: u32, progress: &(dyn Fn(Event) + Sync)) -> Result<BigUint, DhError> {
    if bits < 64 {
        return Err(DhError::TooSmall(bits));
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let done = AtomicBool::new(false);
    let result: Mutex<Option<Result<BigUint, DhError>>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let found = search(bits, &done, progress);
                if let Some(found) = found {
                    done.store(true, Ordering::Relaxed);
                    if let Ok(mut slot) = result.lock() {
                        slot.get_or_insert(found);
                    }
                }
            });
        }
    });
    let found = result.into_inner().ok().flatten();
    let p = found.unwrap_or_else(|| Err(DhError::Random("the search stopped".into())))?;
    progress(Event::Found);
    Ok(p)
}

/// One worker: searches windows until it finds a safe prime, fails, or another worker
/// has finished (then `None`).
fn search(
    bits: u32,
    done: &AtomicBool,
    progress: &(dyn Fn(Event) + Sync),
) -> Option<Result<BigUint, DhError>> {
    while !done.load(Ordering::Relaxed) {
        let start = match random_start(bits - 1) {
            Ok(start) => start,
            Err(err) => return Some(Err(err)),
        };
        let sieve = sieve_window(&start);
        for (k, struck) in sieve.iter().enumerate() {
            if *struck {
                continue;
            }
            if done.load(Ordering::Relaxed) {
                return None;
            }
            let q = &start + BigUint::from(12 * k);
            if q.bits() != u64::from(bits - 1) {
                break;
            }
            progress(Event::Candidate);
            if !fermat_base_2(&q) {
                continue;
            }
            let p: BigUint = (&q << 1u32) + 1u32;
            progress(Event::HalfPrime);
            if !fermat_base_2(&p) {
                continue;
            }
            match probably_prime(&q, ROUNDS) {
                Ok(true) => return Some(Ok(p)),
                Ok(false) => continue,
                Err(err) => return Some(Err(err)),
            }
        }
    }
    None
}

/// A random odd number of exactly `bits` bits with its top two bits set, ≡ 11 (mod 12).
fn random_start(bits: u32) -> Result<BigUint, DhError> {
    let mut bytes = vec![0u8; bits.div_ceil(8) as usize];
    getrandom::getrandom(&mut bytes).map_err(|e| DhError::Random(e.to_string()))?;
    let mut n = BigUint::from_bytes_be(&bytes);
    n.set_bit(u64::from(bits) - 1, true);
    n.set_bit(u64::from(bits) - 2, true);
    for bit in u64::from(bits)..(bytes.len() as u64 * 8) {
        n.set_bit(bit, false);
    }
    let rem = small_mod(&n, 12);
    Ok(n - BigUint::from(rem) + 11u32)
}

/// Marks k when q = start + 12k or p = 2q + 1 has a prime factor 5 ≤ r < 2^20.
fn sieve_window(start: &BigUint) -> Vec<bool> {
    let mut struck = vec![false; WINDOW];
    for &r in small_primes() {
        let res = small_mod(start, r);
        let inv12 = mod_inverse(12 % r, r);
        // q ≡ 0 (mod r)  ⇔  12k ≡ −start;  p ≡ 0  ⇔  q ≡ (r − 1)/2  ⇔  12k ≡ (r−1)/2 − start.
        let k_q = ((r - res) % r) as u64 * inv12 as u64 % r as u64;
        let k_p = (((r - 1) / 2 + r - res) % r) as u64 * inv12 as u64 % r as u64;
        for first in [k_q, k_p] {
            let mut k = first as usize;
            while k < WINDOW {
                struck[k] = true;
                k += r as usize;
            }
        }
    }
    struck
}

/// The odd primes from 5 up to [`SIEVE_BOUND`].
fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let n = SIEVE_BOUND as usize;
        let mut composite = vec![false; n];
        let mut primes = Vec::new();
        for i in 2..n {
            if composite[i] {
                continue;
            }
            if i >= 5 {
                primes.push(i as u32);
            }
            let mut j = i * i;
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
        primes
    })
}

fn small_mod(n: &BigUint, r: u32) -> u32 {
    (n % r).to_u32_digits().first().copied().unwrap_or(0)
}

/// a⁻¹ mod r for prime r not dividing a (Fermat: a^(r−2)).
fn mod_inverse(a: u32, r: u32) -> u32 {
    let (mut base, mut exp, mut acc) = (u64::from(a), r - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * base % u64::from(r);
        }
        base = base * base % u64::from(r);
        exp >>= 1;
    }
    acc as u32
}

fn fermat_base_2(n: &BigUint) -> bool {
    let n_minus_1: BigUint = n - 1u32;
    BigUint::from(2u32).modpow(&n_minus_1, n) == BigUint::from(1u32)
}

/// Miller-Rabin with base 2 and `rounds − 1` random bases. `n` must be odd and above 3.
pub fn probably_prime(n: &BigUint, rounds: usize) -> Result<bool, DhError> {
    let one = BigUint::from(1u32);
    let n_minus_1: BigUint = n - 1u32;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d: BigUint = &n_minus_1 >> s;
    let span: BigUint = n - 3u32;
    for round in 0..rounds {
        let a = if round == 0 {
            BigUint::from(2u32)
        } else {
            let mut bytes = vec![0u8; (n.bits() / 8 + 8) as usize];
            getrandom::getrandom(&mut bytes).map_err(|e| DhError::Random(e.to_string()))?;
            BigUint::from_bytes_be(&bytes) % &span + 2u32
        };
        let mut x = a.modpow(&d, n);
        if x == one || x == n_minus_1 {
            continue;
        }
        let mut witness = true;
        for _ in 1..s {
            x = &x * &x % n;
            if x == n_minus_1 {
                witness = false;
                break;
            }
        }
        if witness {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miller_rabin_tells_primes_from_composites() {
        let mersenne_127 = (BigUint::from(1u32) << 127u32) - 1u32;
        assert!(probably_prime(&mersenne_127, 8).unwrap());
        let carmichael = BigUint::from(561u32);
        assert!(!probably_prime(&carmichael, 8).unwrap());
        let product = &mersenne_127 * BigUint::from(1_000_003u32);
        assert!(!probably_prime(&product, 8).unwrap());
    }

    #[test]
    fn the_sieve_strikes_exactly_the_small_factors() {
        let start = random_start(200).unwrap();
        assert_eq!(small_mod(&start, 12), 11);
        let sieve = sieve_window(&start);
        let divides =
            |r: &u32, q: &BigUint, p: &BigUint| small_mod(q, *r) == 0 || small_mod(p, *r) == 0;
        for (k, struck) in sieve.iter().enumerate().take(300) {
            let q = &start + BigUint::from(12 * k);
            let p: BigUint = (&q << 1u32) + 1u32;
            if *struck {
                assert!(small_primes().iter().any(|r| divides(r, &q, &p)), "k = {k}");
            } else {
                // Checking every sieve prime would be slow in a debug build.
                assert!(
                    !small_primes()[..3000].iter().any(|r| divides(r, &q, &p)),
                    "k = {k}"
                );
            }
        }
    }

    #[test]
    fn reports_progress() {
        let seen = Mutex::new(Vec::new());
        let p = generate(128, &|e| seen.lock().unwrap().push(e)).unwrap();
        assert_eq!(p.bits(), 128);
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.last(), Some(&Event::Found));
        assert!(seen.contains(&Event::Candidate));
    }
}
