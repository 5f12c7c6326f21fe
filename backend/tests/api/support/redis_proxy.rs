//! A TCP proxy in front of the test Redis that counts the commands clients send through it, to
//! see how many round trips a request costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct CountingRedisProxy {
    pub url: String,
    commands: Arc<AtomicUsize>,
}

impl CountingRedisProxy {
    pub async fn start() -> Self {
        let upstream_url = std::env::var("FIELDFLOW_REDIS_URL").unwrap_or("redis://127.0.0.1:6379".into());
        let upstream = upstream_url.trim_start_matches("redis://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let commands = Arc::new(AtomicUsize::new(0));
        let counter = commands.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.unwrap();
                tokio::spawn(relay(client, server, counter.clone()));
            }
        });
        Self { url, commands }
    }

    /// Commands sent so far, by every connection.
    pub fn commands(&self) -> usize {
        self.commands.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, server: TcpStream, commands: Arc<AtomicUsize>) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
    let mut pending = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    while let Ok(read @ 1..) = from_client.read(&mut chunk).await {
        pending.extend_from_slice(&chunk[..read]);
        while let Some(length) = command_length(&pending) {
            pending.drain(..length);
            commands.fetch_add(1, Ordering::SeqCst);
        }
        if to_server.write_all(&chunk[..read]).await.is_err() {
            return;
        }
    }
}

/// The length of the first whole command in `bytes` (a RESP array of bulk strings), if complete.
fn command_length(bytes: &[u8]) -> Option<usize> {
    let (items, mut at) = number_after(bytes, b'*')?;
    for _ in 0..items {
        let (length, start) = number_after(&bytes[at..], b'$')?;
        at += start + usize::try_from(length).unwrap() + 2;
        if at > bytes.len() {
            return None;
        }
    }
    Some(at)
}

/// `<marker><number>\r\n` at the start of `bytes`: the number and the length of that line.
fn number_after(bytes: &[u8], marker: u8) -> Option<(i64, usize)> {
    assert_eq!(*bytes.first()?, marker, "not a RESP command: {:?}", String::from_utf8_lossy(bytes));
    let end = bytes.windows(2).position(|pair| pair == b"\r\n")?;
    let number = std::str::from_utf8(&bytes[1..end]).unwrap().parse().unwrap();
    Some((number, end + 2))
}
