//! `modular_arithmetic`: the algorithmic task of Power et al. 2022 ("Grokking: Generalization
//! Beyond Overfitting on Small Algorithmic Datasets") and Nanda et al. 2023 ("Progress measures
//! for grokking via mechanistic interpretability"). Every pair `(a, b)` of residues mod `p` is an
//! example: the four tokens `[a, op, b, =]` and the answer `a ∘ b mod p`. Tokens `0 … p−1` are
//! the residues, `p` the operation and `p + 1` the equals sign: a vocabulary of `p + 2`.
//!
//! Operations: `+`, `-`, `*`, `/` (`a · b⁻¹` with the inverse `b^(p−2)` by Fermat, so `p`
//! must be prime, and `b ≠ 0`: `p·(p−1)` pairs) and `x^2+xy+y^2`. Examples are in the order
//! `a = 0, b = 0, 1, …`; the run's split draws `train_fraction` of them for training with the
//! data seed ([`super::Split`]), the rest is the test set.

use super::dataset::{Dataset, Tokens};
use crate::config::ModularOp;

/// Whether `p` is prime (trial division; `p` is at most a few thousand).
pub(crate) fn is_prime(p: usize) -> bool {
    p >= 2 && (2..).take_while(|d| d * d <= p).all(|d| p % d != 0)
}

/// `base^exp mod p`.
fn pow_mod(base: usize, mut exp: usize, p: usize) -> usize {
    let (mut result, mut b) = (1 % p, base % p);
    while exp > 0 {
        if exp & 1 == 1 {
            result = result * b % p;
        }
        b = b * b % p;
        exp >>= 1;
    }
    result
}

/// `a ∘ b mod p`, or `None` where the operation is undefined (division by 0).
pub(crate) fn apply(op: ModularOp, a: usize, b: usize, p: usize) -> Option<usize> {
    Some(match op {
        ModularOp::Add => (a + b) % p,
        ModularOp::Sub => (a + p - b) % p,
        ModularOp::Mul => a * b % p,
        ModularOp::Div if b == 0 => return None,
        ModularOp::Div => a * pow_mod(b, p - 2, p) % p,
        ModularOp::Quadratic => (a * a + a * b + b * b) % p,
    })
}

/// Every example of `a ∘ b mod p` (the configuration checked `p`: prime for division).
pub(crate) fn generate(p: usize, op: ModularOp) -> Dataset {
    let (op_token, eq_token) = (p as f32, (p + 1) as f32);
    let mut x = Vec::with_capacity(p * p * 4);
    let mut y = Vec::with_capacity(p * p);
    for a in 0..p {
        for b in 0..p {
            if let Some(c) = apply(op, a, b, p) {
                x.extend_from_slice(&[a as f32, op_token, b as f32, eq_token]);
                y.push(c as f32);
            }
        }
    }
    let mut symbols: Vec<String> = (0..p).map(|v| v.to_string()).collect();
    symbols.push(op.name().to_string());
    symbols.push("=".into());
    let name = format!("modular_arithmetic (a {} b mod {p})", op.name());
    Dataset::new(name, x, 4, y, Some(p + 2))
        .expect("tokens below p + 2")
        .with_tokens(Tokens {
            vocab_size: p + 2,
            symbols,
            stream: Vec::new(),
        })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // residues are exact
mod tests {
    use super::*;

    #[test]
    fn every_pair_with_its_answer() {
        let d = generate(5, ModularOp::Div);
        assert_eq!(d.len(), 5 * 4);
        assert_eq!(d.n_classes(), Some(7));
        assert_eq!(d.tokens().unwrap().vocab_size, 7);
        // Each answer c satisfies c·b = a (mod 5), checked by multiplication.
        for (row, &c) in d.features().chunks(4).zip(d.targets()) {
            let (a, b) = (row[0] as usize, row[2] as usize);
            assert_eq!((c as usize * b) % 5, a, "{a} / {b}");
            assert_eq!((row[1], row[3]), (5.0, 6.0));
        }
        let q = generate(7, ModularOp::Quadratic);
        assert_eq!(q.len(), 49);
        // 3² + 3·5 + 5² = 49 = 0 (mod 7).
        assert_eq!(q.targets()[3 * 7 + 5], 0.0);
        assert_eq!(apply(ModularOp::Sub, 1, 3, 7), Some(5));
        assert_eq!(apply(ModularOp::Mul, 4, 5, 7), Some(6));
        assert_eq!(apply(ModularOp::Add, 6, 5, 7), Some(4));
    }

    #[test]
    fn primes() {
        let primes: Vec<usize> = (0..30).filter(|&p| is_prime(p)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(is_prime(113) && !is_prime(111));
    }
}
