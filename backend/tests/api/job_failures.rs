//! What the job system promises when its parts fail, shown with the real parts: a `fieldflow worker`
//! process SIGKILLed in the middle of a job, and a Redis server restarted during a burst of 1,000
//! notifications. The fake Telegram Bot API server counts what arrives and reports duplicates.

use crate::support::shop::Shop;
use crate::support::telegram::FakeTelegram;
use fieldflow::config::Settings;
use fieldflow::jobs;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fieldflow");
/// A short lease, so work a dead worker held is handed over within seconds; longer than any one
/// attempt takes on a loaded machine, or a slow attempt would be handed over while it still runs.
const LEASE_SECS: u64 = 5;
const CHAT_A: i64 = 4001;
const CHAT_B: i64 = 4002;

/// A child process killed (SIGKILL) when dropped, so a failing test leaves none behind.
struct Process(Child);

impl Process {
    fn kill(&mut self) {
        // `Child::kill` is SIGKILL on Unix: no shutdown hook, no finishing in-flight jobs.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `fieldflow worker` process (relay and workers) on the test's database, Redis keys and fake
/// Telegram server.
fn worker(db: &PgPool, settings: &Settings, telegram: &FakeTelegram) -> Process {
    let child = Command::new(BIN)
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FIELDFLOW_DATABASE_URL", crate::support::database_url(db))
        .env("FIELDFLOW_REDIS_URL", settings.redis_url.expose_secret())
        .env("FIELDFLOW_REDIS_KEY_PREFIX", &settings.redis_key_prefix)
        .env("FIELDFLOW_JOB_LEASE_SECS", LEASE_SECS.to_string())
        .env("FIELDFLOW_LOG_FILTER", "warn")
        .envs(telegram.env())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Process(child)
}

async fn link_telegram(db: &PgPool) {
    sqlx::query(
        "UPDATE users SET telegram_user_id = CASE email WHEN 'a@acme.test' THEN $1 ELSE $2 END
         WHERE email IN ('a@acme.test', 'b@acme.test')",
    )
    .bind(CHAT_A)
    .bind(CHAT_B)
    .execute(db)
    .await
    .unwrap();
}

async fn assign(shop: &Shop, title: &str, technician: &str) -> Value {
    let order = shop.new_order(title).await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": technician })).await;
    order
}

/// The status and attempts of the Telegram assignment message of each order, once every one of them
/// is no longer pending (or the deadline passes).
async fn settled(db: &PgPool, orders: &[&Value], within: Duration) -> Vec<(String, i32)> {
    let ids: Vec<uuid::Uuid> = orders.iter().map(|o| o["id"].as_str().unwrap().parse().unwrap()).collect();
    let deadline = Instant::now() + within;
    loop {
        let rows: Vec<(String, i32)> = sqlx::query_as(
            "SELECT d.status, d.attempts FROM deliveries d JOIN order_events e ON e.id = d.event_id
             WHERE e.order_id = ANY($1) AND d.kind = 'assign' AND d.channel = 'telegram'
             ORDER BY array_position($1, e.order_id)",
        )
        .bind(&ids)
        .fetch_all(db)
        .await
        .unwrap();
        if (rows.len() == ids.len() && rows.iter().all(|(status, _)| status != "pending")) || Instant::now() > deadline
        {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_worker_killed_mid_job_is_replaced_and_the_job_completes(db: PgPool) {
    let telegram = FakeTelegram::start().await;
    let shop = Shop::open_with(db.clone(), false, |settings| telegram.configure(settings)).await;
    link_telegram(&db).await;
    let settings = &shop.app.state.settings;
    // Telegram takes technician A's message, but the answer never reaches the worker.
    telegram.hold_next(CHAT_A);
    let mut first = worker(&db, settings, &telegram);
    let washer = assign(&shop, "Washer", &shop.tech_a_id).await;
    telegram.wait_for(1, Duration::from_secs(30)).await;
    first.kill();
    let (status, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM deliveries WHERE channel = 'telegram'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1), "the killed worker never recorded its attempt");

    // Work that arrives while no worker runs waits in PostgreSQL.
    let dryer = assign(&shop, "Dryer", &shop.tech_b_id).await;
    let _second = worker(&db, settings, &telegram);
    let outcomes = settled(&db, &[&washer, &dryer], Duration::from_secs(60)).await;
    assert_eq!(
        outcomes,
        [("sent".to_owned(), 2), ("sent".to_owned(), 1)],
        "the orphaned job completed on its second attempt"
    );

    let received = telegram.received();
    let duplicates = telegram.duplicates(|m| (m.chat_id, m.text.clone()));
    eprintln!("after SIGKILL: {} messages arrived; duplicates (chat, text) × count: {duplicates:?}", received.len());
    // The one message Telegram took just before the kill arrives twice: the Bot API takes no
    // idempotency key, so a sender that dies before the answer cannot know it went. Nothing else repeats.
    assert_eq!(duplicates.len(), 1, "{duplicates:?}");
    assert_eq!((duplicates[0].0.0, duplicates[0].1), (CHAT_A, 2));
    assert!(duplicates[0].0.1.contains(washer["number"].as_str().unwrap()));
    assert_eq!(received.iter().filter(|m| m.chat_id == CHAT_B).count(), 1);
}

/// A Redis server of the test's own, which it can kill and start again on the same port.
struct RedisServer {
    port: u16,
    process: Option<Process>,
}

impl RedisServer {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Self { port, process: None };
        server.restart().await;
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        self.process.take();
    }

    /// Starts a fresh, empty server (it keeps nothing on disk, like the deployment's).
    async fn restart(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs it)");
        self.process = Some(Process(child));
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..100 {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING").query_async::<String>(&mut connection).await.is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {port}");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn redis_restarted_during_a_burst_of_1000_notifications_loses_none(db: PgPool) {
    const BURST: usize = 1000;
    let mut redis = RedisServer::start().await;
    let telegram = FakeTelegram::start().await;
    let shop = Shop::open_with(db.clone(), false, |settings| {
        settings.redis_url = redis.url().into();
        telegram.configure(settings);
        settings.telegram_chat_interval_ms = 0;
        settings.telegram_global_per_second = 100_000;
        settings.job_lease_secs = LEASE_SECS;
        settings.api_rate_limits.per_user_per_minute = 100_000;
        settings.api_rate_limits.per_ip_per_minute = 100_000;
    })
    .await;
    link_telegram(&db).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let jobs = tokio::spawn(jobs::run_jobs(shop.app.state.clone(), async move {
        let _ = stopped.await;
    }));

    let shop = &shop;
    let technicians = [shop.tech_a_id.as_str(), shop.tech_b_id.as_str()];
    let burst = futures_util::stream::iter(0..BURST)
        .map(|n| async move { assign(shop, &format!("Burst {n}"), technicians[n % 2]).await })
        .buffer_unordered(8)
        .collect::<Vec<Value>>();
    let restart = async {
        telegram.wait_for(BURST / 4, Duration::from_secs(120)).await;
        redis.kill();
        let down = telegram.received().len();
        tokio::time::sleep(Duration::from_secs(1)).await;
        redis.restart().await;
        down
    };
    let (orders, arrived_before_restart) = tokio::join!(burst, restart);
    let orders: Vec<&Value> = orders.iter().collect();
    let outcomes = settled(&db, &orders, Duration::from_secs(180)).await;
    let sent = outcomes.iter().filter(|(status, _)| status == "sent").count();
    let received = telegram.received();
    let duplicates = telegram.duplicates(|m| (m.chat_id, m.text.clone()));
    eprintln!(
        "Redis restarted after {arrived_before_restart} of {BURST} messages; {sent} deliveries sent, {} messages \
         arrived, duplicates: {duplicates:?}",
        received.len()
    );
    assert_eq!(
        sent,
        BURST,
        "every notification was delivered: {:?}",
        outcomes.iter().filter(|(s, _)| s != "sent").collect::<Vec<_>>()
    );
    let missing: Vec<usize> =
        (0..BURST).filter(|n| !received.iter().any(|m| m.text.contains(&format!("\nBurst {n}\n")))).collect();
    assert_eq!(missing, Vec::<usize>::new(), "the messages of these orders never arrived");
    assert_eq!(duplicates, Vec::new(), "no message arrived twice");
    assert!(arrived_before_restart < BURST, "Redis went down in the middle of the burst");
    let _ = stop.send(());
    jobs.await.unwrap().unwrap();
}
