//! Notification benchmarks, driven by `scripts/bench-notifications`; they print figures only.
//!
//! `--scenario latency`: end-to-end latency from an order action to the Telegram message. Against a
//! running `fieldflow serve` whose `FIELDFLOW_TELEGRAM_API_URL` points at `--telegram-listen`, where
//! this process hosts the fake Bot API server of the tests. Assignments are sent open-loop at
//! `--rate` per second (one every 1/rate s, whether or not earlier ones were answered), each to one
//! of the technicians the script made; a message's latency runs from just before its action was
//! sent to the moment the fake server received it, both on this process's clock.
//!
//! `--scenario queue`: throughput of the job queue for no-op jobs: one worker process configured
//! as the deployment's (the same queue settings, poll interval and concurrency), fed so that a
//! backlog is always waiting.
#![allow(clippy::print_stdout, reason = "a benchmark's output is its figures")]

mod common;
#[path = "../tests/api/support/telegram.rs"]
mod telegram;

use anyhow::{Context, bail};
use apalis::prelude::*;
use apalis_redis::RedisStorage;
use common::percentile_ms;
use fieldflow::config::Settings;
use fieldflow::jobs::queues::{self, WORKER_CONCURRENCY, WORKER_POLL};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Actions sent before the measured ones: connections, caches and the workers warm up.
const WARM_UP: Duration = Duration::from_secs(3);
/// How long to wait after the last action for its message.
const DRAIN: Duration = Duration::from_secs(30);
/// Order titles the script gives the orders to assign: `Notify bench <n>`.
const TITLE_PREFIX: &str = "Notify bench ";
/// The queue scenario keeps about this many jobs waiting (apalis-redis moves every due job in one
/// Lua call, which fails above some 8,000; the relay keeps the real queues under 2,000 the same way).
const QUEUE_BACKLOG: usize = 2_000;

#[derive(Debug)]
struct Options {
    scenario: String,
    base_url: String,
    telegram_listen: String,
    rate: u64,
    seconds: u64,
    email: String,
    password: String,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options {
        scenario: "latency".into(),
        base_url: "http://127.0.0.1:8184".into(),
        telegram_listen: "127.0.0.1:8192".into(),
        rate: 200,
        seconds: 30,
        email: "dispatcher@example.com".into(),
        password: "fieldflow-demo".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        // `cargo bench` passes `--bench` to every bench target; it means nothing here.
        if flag == "--bench" {
            continue;
        }
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--scenario" if ["latency", "queue"].contains(&value.as_str()) => options.scenario = value,
            "--base-url" => options.base_url = value.trim_end_matches('/').to_owned(),
            "--telegram-listen" => options.telegram_listen = value,
            "--rate" => options.rate = value.parse().context("--rate")?,
            "--seconds" => options.seconds = value.parse().context("--seconds")?,
            "--email" => options.email = value,
            "--password" => options.password = value,
            other => bail!("unknown argument {other:?} {value:?}"),
        }
    }
    if options.rate == 0 || options.seconds == 0 {
        bail!("--rate and --seconds must be at least 1");
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_args()?;
    fieldflow::install_crypto_provider();
    let settings = Settings::load(None).context("settings from FIELDFLOW_* variables")?;
    if options.scenario == "queue" {
        queue_throughput(&settings, options.seconds).await
    } else {
        latency(&options, &settings).await
    }
}

/// What the script prepared: unassigned orders to assign, and technicians with Telegram chats.
async fn prepared(settings: &Settings) -> anyhow::Result<(Vec<(String, String)>, Vec<String>)> {
    use secrecy::ExposeSecret;
    let db = sqlx::PgPool::connect(settings.database_url.expose_secret()).await?;
    let orders: Vec<(String, String)> = sqlx::query_as(
        "SELECT id::text, title FROM orders WHERE title LIKE 'Notify bench %' AND technician_id IS NULL ORDER BY number",
    )
    .fetch_all(&db)
    .await?;
    let technicians: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM users WHERE email LIKE 'notify-tech-%' AND telegram_user_id IS NOT NULL ORDER BY email",
    )
    .fetch_all(&db)
    .await?;
    db.close().await;
    Ok((orders, technicians))
}

async fn latency(options: &Options, settings: &Settings) -> anyhow::Result<()> {
    let (orders, technicians) = prepared(settings).await?;
    let warm_up = options.rate * WARM_UP.as_secs();
    let needed = usize::try_from(warm_up + options.rate * options.seconds)?;
    if orders.len() < needed || technicians.is_empty() {
        bail!("need {needed} unassigned orders and some technicians; found {} and {}", orders.len(), technicians.len());
    }
    let fake = telegram::FakeTelegram::start_on(&options.telegram_listen).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let login = client
        .post(format!("{}/api/v1/auth/login", options.base_url))
        .json(&json!({ "email": options.email, "password": options.password }))
        .send()
        .await?
        .error_for_status()?
        .json::<serde_json::Value>()
        .await?;
    let token = login["access_token"].as_str().context("no access token")?.to_owned();

    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let action_us: Arc<Mutex<Vec<u64>>> = Arc::default();
    let errors = Arc::new(AtomicU64::new(0));
    let interval = Duration::from_secs_f64(1.0 / options.rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(needed);
    for (n, (order, title)) in orders.into_iter().take(needed).enumerate() {
        // Open loop: each action leaves at its own time, however slow the earlier ones are.
        tokio::time::sleep_until((started + interval * u32::try_from(n)?).into()).await;
        let measured = n as u64 >= warm_up;
        let request = client
            .post(format!("{}/api/v1/orders/{order}/actions/assign", options.base_url))
            .bearer_auth(&token)
            .json(&json!({ "technician_id": technicians[n % technicians.len()] }));
        let (sent_at, action_us, errors) = (sent_at.clone(), action_us.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let start = Instant::now();
            if measured && let Ok(mut sent) = sent_at.lock() {
                sent.insert(title, start);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    if measured && let Ok(mut us) = action_us.lock() {
                        us.push(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX));
                    }
                }
                _ => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let sending = started.elapsed();
    for task in tasks {
        task.await?;
    }
    let measured_count = needed - usize::try_from(warm_up)?;
    let deadline = Instant::now() + DRAIN;
    while fake.received().len() < needed && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent_at = sent_at.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    let mut latencies: Vec<u64> = fake
        .received()
        .iter()
        .filter_map(|message| {
            let title = message.text.lines().find(|line| line.starts_with(TITLE_PREFIX))?;
            let sent = sent_at.get(title)?;
            Some(u64::try_from(message.received_at.saturating_duration_since(*sent).as_micros()).unwrap_or(u64::MAX))
        })
        .collect();
    latencies.sort_unstable();
    let mut action = action_us.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    action.sort_unstable();
    let duplicates = fake.duplicates(|m| m.text.clone()).len();
    println!(
        "notify latency: {} actions at {:.0}/s ({} failed); action p50 {:.1} ms p99 {:.1} ms; \
         message p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms max {:.1} ms; {} of {} messages arrived, {} duplicated",
        measured_count,
        needed as f64 / sending.as_secs_f64(),
        errors.load(Ordering::Relaxed),
        percentile_ms(&action, 50.0),
        percentile_ms(&action, 99.0),
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 95.0),
        percentile_ms(&latencies, 99.0),
        percentile_ms(&latencies, 100.0),
        latencies.len(),
        measured_count,
        duplicates,
    );
    Ok(())
}

/// A job that does nothing, to measure the queue itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Noop;

async fn noop(_: Noop, done: Data<Arc<AtomicU64>>) -> Result<(), BoxDynError> {
    done.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn queue_throughput(settings: &Settings, seconds: u64) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let connection = apalis_redis::connect(settings.redis_url.expose_secret()).await?;
    let name = format!("bench-noop-{}", uuid::Uuid::now_v7().simple());
    let mut storage = RedisStorage::new(connection).with_config(queues::queue_config(settings, &name));
    let done = Arc::new(AtomicU64::new(0));
    let worker = WorkerBuilder::new(name.clone())
        .backend(storage.clone().poll_with_interval(WORKER_POLL))
        .data(done.clone())
        .concurrency(WORKER_CONCURRENCY)
        .build(noop);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async move {
        let _ = stopped.await;
        Ok::<(), std::io::Error>(())
    }));
    let mut pushed: u64 = 0;
    let feed = |pushed: u64, done: u64| usize::try_from(pushed.saturating_sub(done)).unwrap_or(usize::MAX);
    // Fill the backlog, let the worker warm up, then count what it finishes in `seconds`.
    let warm = Instant::now() + Duration::from_secs(2);
    let mut measured: Option<(Instant, u64)> = None;
    loop {
        let finished = done.load(Ordering::Relaxed);
        if measured.is_none() && Instant::now() >= warm {
            measured = Some((Instant::now(), finished));
        }
        if let Some((from, at_start)) = measured
            && from.elapsed() >= Duration::from_secs(seconds)
        {
            let jobs = finished - at_start;
            println!(
                "queue throughput: {jobs} no-op jobs in {:.1} s = {:.0} jobs/s (one worker, concurrency {WORKER_CONCURRENCY}, \
                 ~{QUEUE_BACKLOG} waiting)",
                from.elapsed().as_secs_f64(),
                jobs as f64 / from.elapsed().as_secs_f64()
            );
            break;
        }
        let waiting = feed(pushed, finished);
        if waiting < QUEUE_BACKLOG {
            let batch = QUEUE_BACKLOG - waiting;
            let tasks: Vec<_> = (0..batch).map(|_| TaskBuilder::new(Noop).build()).collect();
            storage
                .push_all(futures_util::stream::iter(tasks))
                .await
                .map_err(|error| anyhow::anyhow!("pushing no-op jobs: {error}"))?;
            pushed += batch as u64;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    running.await?.map_err(|error| anyhow::anyhow!("the no-op worker: {error}"))?;
    Ok(())
}
