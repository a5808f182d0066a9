//! The client through an HTTP CONNECT proxy: the tunnel goes to the Duo host, TLS is checked
//! against the Duo host's name (not the proxy's), and proxy credentials are sent.

use std::sync::{Arc, Mutex};

use duo::{Client, login::Outcome};
use duo_mock::{MockConfig, MockDuo};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A minimal CONNECT proxy that records each request head and relays bytes both ways.
async fn proxy(heads: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(sock);
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap() == 0 {
                        return;
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                heads.lock().unwrap().push(head.clone());
                let target = head.split_whitespace().nth(1).unwrap().to_string();
                let mut sock = reader.into_inner();
                let Ok(mut upstream) =
                    TcpStream::connect(target.replace("localhost", "127.0.0.1")).await
                else {
                    let _ = sock.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                sock.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut sock, &mut upstream).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn calls_go_through_the_connect_proxy_with_its_credentials() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = mock.settings(&dir.path().join("ca.pem"));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let port = proxy(heads.clone()).await;
    settings.proxy = Some(format!("http://duo:s3cret@127.0.0.1:{port}"));
    let client = Client::new(&settings).unwrap();

    client
        .check()
        .await
        .expect("signed check through the proxy");
    let req = duo::LoginRequest {
        username: duo_mock::users::BYPASS.into(),
        factor: duo::Factor::Auto,
        ipaddr: None,
    };
    let outcome = duo::login::login(
        &client,
        &req,
        std::time::Duration::from_secs(10),
        &mut |_| {},
    )
    .await;
    assert!(matches!(outcome, Outcome::Allowed(_)), "{outcome:?}");

    let heads = heads.lock().unwrap().clone();
    assert!(!heads.is_empty(), "nothing went through the proxy");
    let first = &heads[0];
    assert!(
        first.starts_with(&format!("CONNECT {} HTTP/1.1", mock.host())),
        "{first}"
    );
    // base64("duo:s3cret")
    assert!(
        first.contains("ZHVvOnMzY3JldA=="),
        "proxy credentials missing: {first}"
    );
    assert!(
        mock.requests().iter().all(|r| r.signature_ok),
        "every request signed and accepted"
    );
}
