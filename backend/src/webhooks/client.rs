//! The HTTP client of webhook deliveries, one per process: no redirects, no proxy, 10 s per
//! attempt, and no connection to a loopback, private, link-local or otherwise non-public address
//! unless `webhooks_allow_private_networks` is on. Host names are checked by the resolver itself,
//! on the addresses the connection then uses, so a name cannot resolve to a public address when
//! checked and to a private one when connected.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// How long one attempt may take, from connecting to the end of the answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const USER_AGENT: &str = "Fieldflow-Webhooks";
/// How much of an answer is read, and how many of its characters a report quotes.
const ANSWER_READ_BYTES: usize = 1024;
const ANSWER_QUOTED_CHARS: usize = 200;

/// One signed request to send.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub url: &'a str,
    /// `Fieldflow-Event`: the payload's `type`.
    pub event: &'a str,
    /// `Fieldflow-Delivery`: the payload's `id`.
    pub delivery: uuid::Uuid,
    /// `Fieldflow-Signature`.
    pub signature: String,
    pub body: Vec<u8>,
}

/// What the receiver answered, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The start of the answer's body, for the delivery log.
    pub excerpt: String,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `HTTP 500: <start of the body>`.
    pub fn describe(&self) -> String {
        if self.excerpt.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {}", self.status, self.excerpt)
        }
    }
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The URL may not be called: trying again cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// The network failed or the receiver was too slow: a later attempt may succeed.
    #[error("{0}")]
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct WebhookClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl WebhookClient {
    /// Needs `crate::install_crypto_provider()` to have run.
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        Ok(Self { http: guarded_client(USER_AGENT, allow_private)?, allow_private })
    }

    /// POSTs the request once and reads the start of the answer.
    pub async fn send(&self, request: Outgoing<'_>) -> Result<Answer, SendError> {
        let url = reqwest::Url::parse(request.url).map_err(|_| SendError::Refused("not a valid URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::Refused("only http and https URLs are called".into()));
        }
        refuse_private_literal(&url, self.allow_private)?;
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(super::signing::SIGNATURE_HEADER, &request.signature)
            .header("Fieldflow-Event", request.event)
            .header("Fieldflow-Delivery", request.delivery.to_string())
            .body(request.body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        Ok(Answer { status, excerpt: excerpt(response).await })
    }
}

/// A client for URLs other people chose (webhooks, web push endpoints): no redirects, no proxy,
/// 10 s per attempt, and, unless `allow_private`, a resolver that refuses non-public addresses.
/// Needs `crate::install_crypto_provider()` to have run.
pub fn guarded_client(user_agent: &'static str, allow_private: bool) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT);
    if !allow_private {
        builder = builder.dns_resolver(PublicOnlyResolver);
    }
    Ok(builder.build()?)
}

/// Refuses a URL whose host is a non-public address written out (`https://10.0.0.1/`) or
/// `localhost`: those are connected to without asking the resolver, so its check must happen here.
pub fn refuse_private_literal(url: &reqwest::Url, allow_private: bool) -> Result<(), SendError> {
    if allow_private {
        return Ok(());
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) if !is_public(ip.into()) => Err(SendError::Refused(NotPublic(ip.into()).to_string())),
        Some(url::Host::Ipv6(ip)) if !is_public(ip.into()) => Err(SendError::Refused(NotPublic(ip.into()).to_string())),
        Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost") => {
            Err(SendError::Refused(format!("{name} is not a public address")))
        }
        _ => Ok(()),
    }
}

/// The start of an answer's body as text; a body that fails midway is quoted as far as it came.
pub async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ANSWER_READ_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    text.trim().chars().take(ANSWER_QUOTED_CHARS).collect()
}

/// Names why a request got no answer; a refused address is told apart from a network failure.
pub fn classify(error: reqwest::Error) -> SendError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<NotPublic>() {
            return SendError::Refused(refused.to_string());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        SendError::Failed(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))
    } else if error.is_connect() {
        SendError::Failed(format!("cannot connect: {}", root_cause(&error)))
    } else {
        SendError::Failed(root_cause(&error))
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// An address a webhook may not reach.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{0} is not a public address")]
struct NotPublic(IpAddr);

/// Resolves with the system resolver and refuses a name any of whose addresses is not public.
#[derive(Debug)]
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_public(name.as_str().to_owned()))
    }
}

async fn resolve_public(host: String) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
    if let Some(address) = addrs.iter().find(|address| !is_public(address.ip())) {
        return Err(NotPublic(address.ip()).into());
    }
    Ok(Box::new(addrs.into_iter()))
}

/// Whether an address is on the public internet: not loopback, private, shared (CGNAT),
/// link-local (cloud metadata services live there), documentation, benchmarking, multicast or
/// reserved, also when an IPv6 address carries such an IPv4 one (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0
        || ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_documentation()
        || ip.is_multicast()
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240;
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => is_public_v4(embedded(high, low)),
        [0x2002, high, low, ..] => is_public_v4(embedded(high, low)),
        // Teredo (2001::/32) tunnels anywhere; 2001:db8::/32 is for documentation.
        [0x2001, 0 | 0x0db8, ..] => false,
        // Global unicast is 2000::/3; the rest is loopback, link-local, unique local, multicast…
        [first, ..] => first & 0xe000 == 0x2000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for public in ["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public} was refused");
        }
        for private in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001::1",
            "2001:db8::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} was let through");
        }
    }

    #[test]
    fn an_answer_reads_as_its_status_and_start() {
        let answer = Answer { status: 500, excerpt: "boom".into() };
        assert!(!answer.is_success());
        assert_eq!(answer.describe(), "HTTP 500: boom");
        assert_eq!(Answer { status: 204, excerpt: String::new() }.describe(), "HTTP 204");
    }
}
