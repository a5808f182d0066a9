//! Bytes that must not outlive their use in readable memory, nor reach a log.

use std::fmt;

/// A copied password: never printed, overwritten when dropped.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn copy(bytes: &[u8]) -> SecretBytes {
        SecretBytes(bytes.to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: a valid, aligned `&mut u8`; volatile so the store is not optimised away.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        assert_eq!(format!("{:?}", SecretBytes::copy(b"123456")), "<secret>");
    }
}
