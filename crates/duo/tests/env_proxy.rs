//! The plugin inherits OpenVPN's daemon environment: a stray HTTPS_PROXY there must not change
//! where the signed requests go. Only `proxy` in duo.toml does. (Alone in its binary because it
//! sets environment variables.)

use duo::Client;
use duo_mock::{MockConfig, MockDuo};
use tokio::net::TcpListener;

#[tokio::test]
async fn without_a_proxy_setting_the_environment_proxy_is_ignored() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = mock.settings(&dir.path().join("ca.pem"));
    // A proxy that refuses everything: if the client used it, check would fail.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // SAFETY: the only test in this binary; nothing else reads the environment concurrently.
    unsafe {
        std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{dead}"));
        std::env::set_var("ALL_PROXY", format!("http://127.0.0.1:{dead}"));
    }
    let client = Client::new(&settings).unwrap();
    client
        .check()
        .await
        .expect("the environment's proxy must not be used");
}
