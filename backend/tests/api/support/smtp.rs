//! A minimal SMTP server that accepts every message and keeps it, so tests see exactly what a
//! mail provider would receive.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Default)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section: headers and body, quoted-printable decoded.
    pub data: String,
    /// The DATA section as sent, for a MIME parser.
    pub raw: String,
}

impl ReceivedMail {
    /// The message as a mail client reads it: decoded headers, text and HTML parts.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(self.raw.as_bytes()).expect("a MIME message")
    }

    /// The text part, decoded.
    pub fn text(&self) -> String {
        self.parsed().body_text(0).expect("a text part").into_owned()
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    /// Recipients refused, with the reply: `550` for good (no such mailbox), `451` for now.
    refused: Arc<Mutex<Vec<(String, &'static str)>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let (sink, refusing) = (received.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, sink.clone(), refusing.clone()));
            }
        });
        Self { addr, received, refused }
    }

    /// From now on, refuses this recipient with a permanent error.
    pub fn refuse(&self, address: &str) {
        self.refused.lock().unwrap().push((address.to_owned(), "550 no such mailbox\r\n"));
    }

    /// From now on, refuses this recipient with a temporary error.
    pub fn defer(&self, address: &str) {
        self.refused.lock().unwrap().push((address.to_owned(), "451 try again later\r\n"));
    }

    pub fn accept_everyone(&self) {
        self.refused.lock().unwrap().clear();
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to five seconds for at least `count` messages.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        for _ in 0..100 {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} emails, got {:?}", self.received());
    }
}

type Refusals = Arc<Mutex<Vec<(String, &'static str)>>>;

async fn session(stream: tokio::net::TcpStream, sink: Arc<Mutex<Vec<ReceivedMail>>>, refused: Refusals) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let mut mail = ReceivedMail::default();
    if writer.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.split([' ', ':']).next().unwrap_or("").to_ascii_uppercase();
        let refusal = refused.lock().unwrap().iter().find(|(to, _)| *to == address(&line)).map(|(_, reply)| *reply);
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink\r\n",
            "MAIL" => {
                mail.from = address(&line);
                b"250 OK\r\n"
            }
            "RCPT" => match refusal {
                Some(reply) => reply.as_bytes(),
                None => {
                    mail.to.push(address(&line));
                    b"250 OK\r\n"
                }
            },
            "DATA" => {
                if writer.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                    data.push('\n');
                }
                mail.data = decode_quoted_printable(&data);
                mail.raw = data;
                sink.lock().unwrap().push(std::mem::take(&mut mail));
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = writer.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"250 OK\r\n",
        };
        if writer.write_all(reply).await.is_err() {
            return;
        }
    }
}

fn address(line: &str) -> String {
    line.split('<').nth(1).and_then(|rest| rest.split('>').next()).unwrap_or_default().to_owned()
}

/// Enough quoted-printable decoding to read links: soft line breaks and `=XX` escapes.
fn decode_quoted_printable(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| joined.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok()))
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
