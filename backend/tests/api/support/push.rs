//! A fake push service, as a browser vendor runs one: `POST /push/<browser>` with an
//! `aes128gcm` body and a VAPID `Authorization` header. Like the real ones it checks the VAPID JWT
//! (ES256 signature by the `k=` key, which must be the key the browser subscribed with; `aud` its
//! own origin; `exp` within 24 hours) and answers 401/403 otherwise. Unlike them it also plays the
//! browser: it holds each [`FakeBrowser`]'s private key and auth secret and DECRYPTS the message
//! (RFC 8291, written here independently of the code under test), so a test reads what the
//! person would see. Answers can be scripted per browser (410 gone, 429 with `Retry-After`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// A browser's side of a subscription: the keys only it has.
#[derive(Clone)]
pub struct FakeBrowser {
    pub id: String,
    pub endpoint: String,
    private: SecretKey,
    auth: [u8; 16],
    /// The `applicationServerKey` it subscribed with; pushes signed with another key are refused.
    server_key: String,
}

impl FakeBrowser {
    /// What `PushSubscription.toJSON()` gives, the body of `POST /me/push-subscriptions`.
    pub fn subscription(&self) -> Value {
        let p256dh = URL_SAFE_NO_PAD.encode(self.private.public_key().to_encoded_point(false).as_bytes());
        json!({ "endpoint": self.endpoint, "expirationTime": null,
                "keys": { "p256dh": p256dh, "auth": URL_SAFE_NO_PAD.encode(self.auth) } })
    }
}

/// One request that reached the fake, and what it made of it.
#[derive(Debug, Clone)]
pub struct Push {
    pub browser: String,
    /// What the fake answered.
    pub status: u16,
    /// The decrypted message (JSON), when the request was valid.
    pub message: Option<Value>,
    /// Why it was refused, when it was.
    pub problem: Option<String>,
    pub ttl: Option<String>,
    pub urgency: Option<String>,
    pub received_at: Instant,
}

struct Scripted {
    status: u16,
    retry_after: Option<u64>,
    /// None: every time.
    remaining: Option<usize>,
}

#[derive(Default)]
struct Shared {
    origin: String,
    browsers: Mutex<HashMap<String, FakeBrowser>>,
    scripted: Mutex<HashMap<String, Scripted>>,
    pushes: Mutex<Vec<Push>>,
    arrived: Notify,
}

/// The server runs until this is dropped.
pub struct FakePushService {
    /// `http://127.0.0.1:<port>`, the origin VAPID tokens must name.
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakePushService {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared { origin: url.clone(), ..Shared::default() });
        let router = Router::new().route("/push/{browser}", post(receive)).with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { url, shared, server }
    }

    /// A new browser, as one that subscribes with `server_key` (the VAPID public key) does: its
    /// own P-256 key pair and 16-byte auth secret, and an endpoint on this service.
    pub fn browser(&self, server_key: &str) -> FakeBrowser {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut auth = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut auth);
        let browser = FakeBrowser {
            endpoint: format!("{}/push/{id}", self.url),
            id: id.clone(),
            private: random_key(),
            auth,
            server_key: server_key.to_owned(),
        };
        self.shared.browsers.lock().unwrap().insert(id, browser.clone());
        browser
    }

    /// Answers requests for `browser` with `status` (and `Retry-After`), `times` times or always.
    pub fn answer(&self, browser: &FakeBrowser, status: u16, retry_after: Option<u64>, times: Option<usize>) {
        self.shared
            .scripted
            .lock()
            .unwrap()
            .insert(browser.id.clone(), Scripted { status, retry_after, remaining: times });
    }

    pub fn pushes(&self) -> Vec<Push> {
        self.shared.pushes.lock().unwrap().clone()
    }

    /// The messages a browser received (answered 201).
    pub fn received_by(&self, browser: &FakeBrowser) -> Vec<Push> {
        self.pushes().into_iter().filter(|p| p.browser == browser.id && p.status == 201).collect()
    }

    /// Waits until at least `count` requests arrived, whatever they were answered.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Push> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let pushes = self.pushes();
            if pushes.len() >= count {
                return pushes;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {count} push requests within {timeout:?}, got {pushes:#?}");
            }
        }
    }
}

fn random_key() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let browser = shared.browsers.lock().unwrap().get(&id).cloned();
    let (status, message, problem) = match browser {
        None => (404, None, Some("no such subscription".to_owned())),
        Some(browser) => match check(&shared.origin, &browser, &headers, &body) {
            Err((status, problem)) => (status, None, Some(problem)),
            Ok(message) => (201, Some(message), None),
        },
    };
    // A scripted answer stands in for a valid request's 201.
    let mut retry_after = None;
    let status = if status == 201 {
        let mut scripted = shared.scripted.lock().unwrap();
        match scripted.get_mut(&id) {
            Some(script) if script.remaining != Some(0) => {
                if let Some(left) = script.remaining.as_mut() {
                    *left -= 1;
                }
                retry_after = script.retry_after;
                script.status
            }
            _ => 201,
        }
    } else {
        status
    };
    shared.pushes.lock().unwrap().push(Push {
        browser: id,
        status,
        message,
        problem: problem.clone(),
        ttl: text("ttl"),
        urgency: text("urgency"),
        received_at: Instant::now(),
    });
    shared.arrived.notify_waiters();
    let mut response = (StatusCode::from_u16(status).unwrap(), problem.unwrap_or_default()).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// What a push service and the browser check: the VAPID token, then the message's encryption.
fn check(origin: &str, browser: &FakeBrowser, headers: &HeaderMap, body: &[u8]) -> Result<Value, (u16, String)> {
    let authorization =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or((401, "no Authorization".to_owned()))?;
    let (token, key) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .ok_or((401, format!("not a vapid authorization: {authorization}")))?;
    if key != browser.server_key {
        return Err((403, "signed with another key than the subscription's".into()));
    }
    let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(key).map_err(|e| (401, e.to_string()))?)
        .map_err(|e| (401, e.to_string()))?;
    let (signed, signature) = token.rsplit_once('.').ok_or((401, "not a JWT".to_owned()))?;
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).map_err(|e| (401, e.to_string()))?)
        .map_err(|e| (401, e.to_string()))?;
    verifying.verify(signed.as_bytes(), &signature).map_err(|_| (401, "bad JWT signature".to_owned()))?;
    let (head, claims) = signed.split_once('.').ok_or((401, "not a JWT".to_owned()))?;
    let head: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap_or_default()).unwrap_or_default();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap_or_default()).unwrap_or_default();
    if head["alg"] != "ES256" {
        return Err((401, format!("alg {}", head["alg"])));
    }
    if claims["aud"] != origin {
        return Err((401, format!("aud {} is not {origin}", claims["aud"])));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let exp = claims["exp"].as_u64().unwrap_or(0);
    if exp <= now || exp > now + 24 * 3600 {
        return Err((401, format!("exp {exp} is not within 24 h of {now}")));
    }
    let subject = claims["sub"].as_str().unwrap_or_default();
    if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
        return Err((401, format!("sub {subject:?}")));
    }
    if headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()) != Some("aes128gcm") {
        return Err((400, "Content-Encoding must be aes128gcm".into()));
    }
    if headers.get("ttl").is_none() {
        return Err((400, "TTL is required".into()));
    }
    if body.len() > 4096 {
        return Err((413, format!("{} bytes", body.len())));
    }
    let plaintext = decrypt(browser, body).ok_or((400, "the body does not decrypt".to_owned()))?;
    serde_json::from_slice(&plaintext).map_err(|e| (400, format!("not JSON: {e}")))
}

/// RFC 8291 from the browser's side: the sender's key and the salt come from the body's header.
fn decrypt(browser: &FakeBrowser, body: &[u8]) -> Option<Vec<u8>> {
    let salt = body.get(..16)?;
    let record_size = u32::from_be_bytes(body.get(16..20)?.try_into().ok()?) as usize;
    let key_length = *body.get(20)? as usize;
    let sender = PublicKey::from_sec1_bytes(body.get(21..21 + key_length)?).ok()?;
    let ciphertext = body.get(21 + key_length..)?;
    if ciphertext.len() > record_size {
        return None;
    }
    let shared = p256::ecdh::diffie_hellman(browser.private.to_nonzero_scalar(), sender.as_affine());
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(browser.private.public_key().to_encoded_point(false).as_bytes());
    info.extend_from_slice(sender.to_encoded_point(false).as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&browser.auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).ok()?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).ok()?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).ok()?;
    let mut record = Aes128Gcm::new_from_slice(&cek).ok()?.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
    // The last record ends with 0x02, then any zero padding.
    while record.last() == Some(&0) {
        record.pop();
    }
    (record.pop()? == 0x02).then_some(record)
}
