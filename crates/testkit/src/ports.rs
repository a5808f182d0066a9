//! Free loopback ports. A port is released before OpenVPN binds it, and the kernel may hand
//! the same free port out twice in a row, so every port given out by this process is
//! remembered and never given again (fifty clients started at once each need their own
//! management port). Another program may still take one in between; that fails loudly.

use std::collections::HashSet;
use std::net::{TcpListener, UdpSocket};
use std::sync::Mutex;

static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn unique(mut pick: impl FnMut() -> u16) -> u16 {
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    for _ in 0..1000 {
        let port = pick();
        if given.insert(port) {
            return port;
        }
    }
    panic!("no fresh free port on 127.0.0.1")
}

pub fn free_udp_port() -> u16 {
    unique(|| {
        UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("no free UDP port on 127.0.0.1")
    })
}

pub fn free_tcp_port() -> u16 {
    unique(|| {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("no free TCP port on 127.0.0.1")
    })
}
