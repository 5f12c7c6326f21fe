//! Closed-loop HTTP load generator for a running Fieldflow server; `scripts/bench` drives it.
//!
//! Each of `--concurrency` workers sends one request, waits for the whole answer, records it and
//! sends the next, so the figures show what the server sustains at that many requests in flight.
//! Run by hand: `cargo bench -p fieldflow --bench http_load -- --scenario me --concurrency 32`;
//! `--rate 1000` sends open-loop at a fixed rate instead.
#![allow(clippy::print_stdout, reason = "a benchmark's output is its figures")]

mod common;

use anyhow::{Context, bail};
use common::percentile_ms;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Excluded from the figures: connections are opened and caches filled during it.
const WARM_UP: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Login,
    Me,
    /// A technician's own order list.
    TechList,
    /// A dispatcher's list filtered by status, date range and text.
    DispatcherList,
    /// One order by id.
    GetOrder,
    CreateOrder,
    /// One lifecycle action: holding and resuming an order in progress, which can repeat forever.
    Action,
    /// Free slots for a 90-minute job over the next 30 days.
    Slots,
    /// Ranked technicians for a new order.
    Suggestions,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Login => "login",
            Scenario::Me => "me",
            Scenario::TechList => "tech_list",
            Scenario::DispatcherList => "dispatcher_list",
            Scenario::GetOrder => "get_order",
            Scenario::CreateOrder => "create_order",
            Scenario::Action => "action",
            Scenario::Slots => "slots",
            Scenario::Suggestions => "suggestions",
        }
    }
}

#[derive(Debug)]
struct Options {
    base_url: String,
    scenario: Scenario,
    concurrency: usize,
    seconds: u64,
    email: String,
    password: String,
    /// Open loop: requests per second in all, on a fixed schedule whatever the answers, each timed
    /// from when it was due (so a slow answer's wait counts). Without it each worker sends its next
    /// request when the last one is answered.
    rate: Option<f64>,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options {
        base_url: "http://127.0.0.1:8181".into(),
        scenario: Scenario::Me,
        concurrency: 32,
        seconds: 15,
        email: "admin@example.com".into(),
        password: "fieldflow-demo".into(),
        rate: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        // `cargo bench` passes `--bench` to every bench target; it means nothing here.
        if flag == "--bench" {
            continue;
        }
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base-url" => options.base_url = value.trim_end_matches('/').to_owned(),
            "--scenario" => {
                options.scenario = [
                    Scenario::Login,
                    Scenario::Me,
                    Scenario::TechList,
                    Scenario::DispatcherList,
                    Scenario::GetOrder,
                    Scenario::CreateOrder,
                    Scenario::Action,
                    Scenario::Slots,
                    Scenario::Suggestions,
                ]
                .into_iter()
                .find(|s| s.name() == value)
                .with_context(|| format!("unknown --scenario {value:?}"))?
            }
            "--concurrency" => options.concurrency = value.parse().context("--concurrency")?,
            "--seconds" => options.seconds = value.parse().context("--seconds")?,
            "--email" => options.email = value,
            "--password" => options.password = value,
            "--rate" => options.rate = Some(value.parse().context("--rate")?).filter(|rate: &f64| *rate > 0.0),
            other => bail!("unknown argument {other:?}"),
        }
    }
    if options.concurrency == 0 || options.seconds == 0 {
        bail!("--concurrency and --seconds must be at least 1");
    }
    Ok(options)
}

/// What one worker saw inside the measured window.
#[derive(Debug, Default)]
struct Tally {
    /// Microseconds, successful (2xx) requests only, so fast failures cannot flatter the latencies.
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

fn login_request(client: &reqwest::Client, options: &Options) -> reqwest::RequestBuilder {
    let body = json!({ "email": options.email, "password": options.password });
    client.post(format!("{}/api/v1/auth/login", options.base_url)).json(&body)
}

async fn login(client: &reqwest::Client, options: &Options) -> anyhow::Result<reqwest::Response> {
    Ok(login_request(client, options).send().await?)
}

/// What the requests of a scenario need, fetched once before the load.
#[derive(Debug, Default)]
struct Setup {
    token: String,
    /// Orders to read (get_order) or to act on (action: one per worker).
    order_ids: Vec<String>,
    /// The body of a new order.
    new_order: serde_json::Value,
    /// The query string of the dispatcher's filtered list, or of the slot search.
    list_query: String,
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> anyhow::Result<serde_json::Value> {
    let response = client.get(&url).bearer_auth(token).send().await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    if !status.is_success() {
        bail!("GET {url}: {status} {body}");
    }
    Ok(body)
}

fn ids(page: &serde_json::Value, pointer: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.pointer(pointer)?.as_str().map(str::to_owned))
        .collect()
}

async fn setup(client: &reqwest::Client, options: &Options) -> anyhow::Result<Setup> {
    if options.scenario == Scenario::Login {
        return Ok(Setup::default());
    }
    let response = login(client, options).await.context("cannot reach the server")?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.context("login answer is not JSON")?;
    let token = body["access_token"].as_str().with_context(|| format!("login failed ({status}): {body}"))?.to_owned();
    let base = &options.base_url;
    let mut setup = Setup { token, ..Setup::default() };
    match options.scenario {
        Scenario::GetOrder => {
            setup.order_ids =
                ids(&get_json(client, format!("{base}/api/v1/orders?limit=200"), &setup.token).await?, "/id");
        }
        Scenario::Action => {
            let query = format!("{base}/api/v1/orders?status=in_progress&limit={}", options.concurrency.min(200));
            setup.order_ids = ids(&get_json(client, query, &setup.token).await?, "/id");
            if setup.order_ids.len() < options.concurrency {
                bail!("the action scenario needs {} orders in progress", options.concurrency);
            }
        }
        Scenario::Suggestions => {
            setup.order_ids = ids(
                &get_json(client, format!("{base}/api/v1/orders?status=new&limit=200"), &setup.token).await?,
                "/id",
            );
            if setup.order_ids.is_empty() {
                bail!("the suggestions scenario needs new orders");
            }
        }
        Scenario::Slots => {
            let from = chrono::Utc::now() + chrono::Duration::days(1);
            let to = from + chrono::Duration::days(30);
            setup.list_query = format!(
                "duration_minutes=90&from={}&to={}&limit=20",
                from.format("%Y-%m-%dT%H:00:00Z"),
                to.format("%Y-%m-%dT%H:00:00Z")
            );
        }
        Scenario::CreateOrder => {
            let customers = get_json(client, format!("{base}/api/v1/customers?limit=1"), &setup.token).await?;
            let types = get_json(client, format!("{base}/api/v1/service-types?limit=1"), &setup.token).await?;
            setup.new_order = json!({
                "customer_id": customers.pointer("/items/0/id"),
                "site_id": customers.pointer("/items/0/sites/0/id"),
                "service_type_id": types.pointer("/items/0/id"),
                "title": "Benchmark: the washing machine leaks",
            });
        }
        Scenario::DispatcherList => {
            let to = chrono::Utc::now();
            let from = to - chrono::Duration::days(180);
            setup.list_query = format!(
                "status=closed&from={}&to={}&q=leaks&limit=50",
                from.format("%Y-%m-%dT%H:%M:%SZ"),
                to.format("%Y-%m-%dT%H:%M:%SZ")
            );
        }
        Scenario::Login | Scenario::Me | Scenario::TechList => {}
    }
    Ok(setup)
}

/// Sends request number `n` of worker `worker` and reads the whole body (which also frees the connection).
async fn one_request(
    client: &reqwest::Client,
    options: &Options,
    setup: &Setup,
    worker: usize,
    n: usize,
) -> Result<(), String> {
    let base = &options.base_url;
    let request = match options.scenario {
        Scenario::Login => login_request(client, options),
        Scenario::Me => client.get(format!("{base}/api/v1/me")),
        Scenario::TechList => client.get(format!("{base}/api/v1/orders?limit=50")),
        Scenario::DispatcherList => client.get(format!("{base}/api/v1/orders?{}", setup.list_query)),
        Scenario::GetOrder => {
            let id = &setup.order_ids[(worker * 7919 + n) % setup.order_ids.len()];
            client.get(format!("{base}/api/v1/orders/{id}"))
        }
        Scenario::CreateOrder => client.post(format!("{base}/api/v1/orders")).json(&setup.new_order),
        Scenario::Action => {
            let id = &setup.order_ids[worker];
            let (action, body) =
                if n.is_multiple_of(2) { ("hold", json!({ "reason": "benchmark" })) } else { ("resume", json!({})) };
            client.post(format!("{base}/api/v1/orders/{id}/actions/{action}")).json(&body)
        }
        Scenario::Slots => client.get(format!("{base}/api/v1/schedule/slots?{}", setup.list_query)),
        Scenario::Suggestions => {
            let id = &setup.order_ids[(worker * 7919 + n) % setup.order_ids.len()];
            client.get(format!("{base}/api/v1/orders/{id}/suggestions"))
        }
    };
    let request = if options.scenario == Scenario::Login { request } else { request.bearer_auth(&setup.token) };
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() { Ok(()) } else { Err(format!("{status}: {}", String::from_utf8_lossy(&body))) }
}

async fn worker(
    client: reqwest::Client,
    options: Arc<Options>,
    setup: Arc<Setup>,
    index: usize,
    measure_from: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0;
    let begin = Instant::now();
    while Instant::now() < end {
        let started = match options.rate {
            Some(rate) => {
                let due = begin + Duration::from_secs_f64((n * options.concurrency + index) as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => Instant::now(),
        };
        let outcome = one_request(&client, &options, &setup, index, n).await;
        n += 1;
        let finished = Instant::now();
        // Only requests wholly inside the measured window count, so throughput = count / seconds.
        if started < measure_from || finished > end {
            continue;
        }
        match outcome {
            Ok(()) => {
                tally.latencies_us.push(u64::try_from(finished.duration_since(started).as_micros()).unwrap_or(u64::MAX))
            }
            Err(error) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(error);
            }
        }
    }
    tally
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Arc::new(parse_args()?);
    fieldflow::install_crypto_provider();
    // One pool shared by all workers; it keeps up to `concurrency` connections alive.
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;

    let setup = Arc::new(setup(&client, &options).await?);

    let measure_from = Instant::now() + WARM_UP;
    let end = measure_from + Duration::from_secs(options.seconds);
    let workers: Vec<_> = (0..options.concurrency)
        .map(|index| tokio::spawn(worker(client.clone(), options.clone(), setup.clone(), index, measure_from, end)))
        .collect();
    let mut total = Tally::default();
    for handle in workers {
        let tally = handle.await?;
        total.latencies_us.extend(tally.latencies_us);
        total.errors += tally.errors;
        total.first_error = total.first_error.or(tally.first_error);
    }

    let mut latencies = total.latencies_us;
    latencies.sort_unstable();
    let name = options.scenario.name();
    // requests counts every answer; throughput and latencies count the successful ones only.
    println!(
        "{name}: concurrency={}{} requests={} errors={} throughput={:.1} req/s p50={:.1} ms p90={:.1} ms p99={:.1} ms",
        options.concurrency,
        options.rate.map(|rate| format!(" rate={rate}/s")).unwrap_or_default(),
        latencies.len() as u64 + total.errors,
        total.errors,
        latencies.len() as f64 / options.seconds as f64,
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 90.0),
        percentile_ms(&latencies, 99.0),
    );
    if let Some(error) = total.first_error {
        println!("{name}: first error: {error}");
    }
    if latencies.is_empty() {
        bail!("no request succeeded in the measured window");
    }
    Ok(())
}
