//! Copying what a login needs out of OpenVPN's environment.
//!
//! `envp` is valid only during the call, so the few variables we need are copied as bytes and
//! everything else is left alone: no UTF-8 decoding, no parsing, no logging here. This runs on
//! OpenVPN's only thread for every login and must stay in the microseconds.
//!
//! Each entry is read at most [`MAX_VALUE`] bytes past its name: a value longer than that is
//! recorded as [`Var::TooLong`], never read to its end.

use std::ffi::c_char;

use crate::secret::SecretBytes;

/// Longest value we copy. OpenVPN caps user names and passwords far below this (`USER_PASS_LEN`)
/// and paths at `PATH_MAX` (4096).
pub const MAX_VALUE: usize = 8192;

/// Entries scanned at most: a real environment has a few dozen.
pub const MAX_ENTRIES: usize = 4096;

/// One variable as found (or not) in the environment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Var<T = Vec<u8>> {
    #[default]
    Missing,
    Present(T),
    TooLong,
}

impl<T> Var<T> {
    pub fn is_present(&self) -> bool {
        matches!(self, Var::Present(_))
    }
}

/// Everything `AUTH_USER_PASS_VERIFY` needs from `envp`, owned.
#[derive(Debug, Default)]
pub struct VerifyEnv {
    pub username: Var,
    pub common_name: Var,
    pub password: Var<SecretBytes>,
    pub untrusted_ip: Var,
    pub untrusted_ip6: Var,
    pub auth_control_file: Var,
    pub auth_failed_reason_file: Var,
    /// With `auth-gen-token … external-auth` (see [`crate::session`]).
    pub session_state: Var,
    /// The pending-auth methods the client offers (`crtext`, see [`crate::crtext`]).
    pub iv_sso: Var,
    /// The client program and version (`OpenVPN_GUI_11`), for the log line.
    pub iv_gui_ver: Var,
    pub auth_pending_file: Var,
    /// The answer to a CR_TEXT prompt (`CLIENT_CRRESPONSE` only), base64.
    pub crresponse: Var<SecretBytes>,
}

/// Copy the variables we use out of a NULL-terminated `envp`. A NULL `envp` is an empty one.
/// The first occurrence of a name wins, as with `getenv`.
///
/// # Safety
/// `envp` is NULL or points to an array of pointers to NUL-terminated strings that ends with a
/// NULL pointer (or has at least [`MAX_ENTRIES`] entries), all valid for the call.
pub unsafe fn scan(envp: *const *const c_char) -> VerifyEnv {
    let mut env = VerifyEnv::default();
    if envp.is_null() {
        return env;
    }
    for i in 0..MAX_ENTRIES {
        // SAFETY: the caller guarantees the array is readable up to its NULL terminator.
        let entry = unsafe { *envp.add(i) };
        if entry.is_null() {
            break;
        }
        // SAFETY: `entry` is a NUL-terminated string valid for the call.
        let _found = unsafe {
            take(entry, b"username", &mut env.username)
                || take(entry, b"common_name", &mut env.common_name)
                || take_secret(entry, b"password", &mut env.password)
                || take(entry, b"untrusted_ip", &mut env.untrusted_ip)
                || take(entry, b"untrusted_ip6", &mut env.untrusted_ip6)
                || take(entry, b"auth_control_file", &mut env.auth_control_file)
                || take(
                    entry,
                    b"auth_failed_reason_file",
                    &mut env.auth_failed_reason_file,
                )
                || take(entry, b"session_state", &mut env.session_state)
                || take(entry, b"IV_SSO", &mut env.iv_sso)
                || take(entry, b"IV_GUI_VER", &mut env.iv_gui_ver)
                || take(entry, b"auth_pending_file", &mut env.auth_pending_file)
                || take_secret(entry, b"crresponse", &mut env.crresponse)
        };
    }
    env
}

/// If `entry` is `name=value` and `slot` is still empty, copy the value into it.
unsafe fn take(entry: *const c_char, name: &[u8], slot: &mut Var) -> bool {
    if slot.is_present() {
        return false;
    }
    // SAFETY: forwarded from the caller.
    match unsafe { value_of(entry, name) } {
        None => false,
        Some(v) => {
            *slot = v.map_or(Var::TooLong, |bytes| Var::Present(bytes.to_vec()));
            true
        }
    }
}

unsafe fn take_secret(entry: *const c_char, name: &[u8], slot: &mut Var<SecretBytes>) -> bool {
    if slot.is_present() {
        return false;
    }
    // SAFETY: forwarded from the caller.
    match unsafe { value_of(entry, name) } {
        None => false,
        Some(v) => {
            *slot = v.map_or(Var::TooLong, |bytes| Var::Present(SecretBytes::copy(bytes)));
            true
        }
    }
}

/// `None`: not this variable. `Some(None)`: this variable, with a value over [`MAX_VALUE`].
/// Compares the name byte by byte, so an unrelated entry costs a few byte reads, never a
/// `strlen` of its whole value.
unsafe fn value_of<'a>(entry: *const c_char, name: &[u8]) -> Option<Option<&'a [u8]>> {
    let p = entry as *const u8;
    for (i, &want) in name.iter().enumerate() {
        // SAFETY: the string is NUL-terminated and we stop at the first mismatch (NUL included).
        if unsafe { *p.add(i) } != want {
            return None;
        }
    }
    // SAFETY: every byte up to here was non-NUL, so the next one is readable.
    if unsafe { *p.add(name.len()) } != b'=' {
        return None;
    }
    // SAFETY: still inside the NUL-terminated string.
    let value = unsafe { p.add(name.len() + 1) };
    // SAFETY: strnlen reads at most MAX_VALUE + 1 bytes and stops at the terminator.
    let len = unsafe { libc::strnlen(value as *const c_char, MAX_VALUE + 1) };
    if len > MAX_VALUE {
        return Some(None);
    }
    // SAFETY: `len` bytes before the terminator are readable for the call.
    Some(Some(unsafe { std::slice::from_raw_parts(value, len) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::ptr;

    fn scan_strs(entries: &[&[u8]]) -> VerifyEnv {
        let owned: Vec<CString> = entries.iter().map(|e| CString::new(*e).unwrap()).collect();
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(ptr::null());
        unsafe { scan(ptrs.as_ptr()) }
    }

    #[test]
    fn copies_only_what_it_needs() {
        let env = scan_strs(&[
            b"PATH=/bin",
            b"username_extra=x",
            b"username=alice",
            b"username=mallory",
            b"password=",
            b"untrusted_ip=192.0.2.1",
            b"auth_control_file=/tmp/acf",
            b"common_name",
            b"session_state=Authenticated",
            b"IV_SSO=openurl,crtext",
            b"auth_pending_file=/tmp/apf",
            b"crresponse=MTIz",
        ]);
        assert_eq!(env.username, Var::Present(b"alice".to_vec()));
        assert!(matches!(&env.password, Var::Present(p) if p.as_bytes().is_empty()));
        assert_eq!(env.untrusted_ip, Var::Present(b"192.0.2.1".to_vec()));
        assert_eq!(env.untrusted_ip6, Var::Missing);
        assert_eq!(env.auth_control_file, Var::Present(b"/tmp/acf".to_vec()));
        assert_eq!(env.common_name, Var::Missing);
        assert_eq!(env.session_state, Var::Present(b"Authenticated".to_vec()));
        assert_eq!(env.iv_sso, Var::Present(b"openurl,crtext".to_vec()));
        assert_eq!(env.auth_pending_file, Var::Present(b"/tmp/apf".to_vec()));
        assert!(matches!(&env.crresponse, Var::Present(p) if p.as_bytes() == b"MTIz"));
    }

    #[test]
    fn huge_and_odd_values() {
        let mut huge = b"password=".to_vec();
        huge.extend(std::iter::repeat_n(b'9', MAX_VALUE + 1));
        let mut exact = b"username=".to_vec();
        exact.extend(std::iter::repeat_n(b'a', MAX_VALUE));
        let env = scan_strs(&[&huge, &exact, b"common_name=\xff\xfe"]);
        assert!(matches!(env.password, Var::TooLong));
        assert!(matches!(&env.username, Var::Present(v) if v.len() == MAX_VALUE));
        assert_eq!(env.common_name, Var::Present(b"\xff\xfe".to_vec()));
        assert_eq!(unsafe { scan(ptr::null()) }.username, Var::Missing);
    }
}
