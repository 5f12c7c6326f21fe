//! Messages beyond the inbox, through the deliver queue on real Redis and an SMTP sink: the
//! customer's localized email with one-click unsubscribe, preferences and quiet hours, templates,
//! retries with backoff, dead letters and their re-drive.

use crate::support::shop::Shop;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::notifications::{Channel, preference_kinds};
use domain::{Locale, OrgId, Role, UserId};
use fieldflow::jobs::{self, queues::Queues};
use fieldflow::notifications::worded::{self, Worded, WordedFor};
use fieldflow::state::AppState;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::oneshot;

const CUSTOMER: &str = "maria@example.test";

fn start_jobs(state: &AppState) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(jobs::run_jobs(state.clone(), async move {
        let _ = stopped.await;
    }));
    stop
}

/// A shop whose customer has an email address, in the given language, with jobs running.
async fn shop_with_customer_email(db: PgPool, locale: &str) -> (Shop, oneshot::Sender<()>) {
    let shop = Shop::open(db, false).await;
    let org = shop.app.patch("/api/v1/org", Some(&shop.admin), json!({ "locale": locale })).await;
    assert_eq!(org.status, StatusCode::OK, "{:?}", org.body);
    let path = format!("/api/v1/customers/{}", shop.customer_id);
    let customer = shop.app.patch(&path, Some(&shop.admin), json!({ "email": CUSTOMER })).await;
    assert_eq!(customer.status, StatusCode::OK, "{:?}", customer.body);
    let stop = start_jobs(&shop.app.state);
    (shop, stop)
}

async fn assign(shop: &Shop, title: &str) -> Value {
    let order = shop.new_order(title).await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    order
}

/// Waits until every outbox row is announced: every delivery of the events so far is planned.
async fn announced(db: &PgPool) {
    for _ in 0..200 {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(db).await.unwrap();
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never emptied");
}

async fn delivery_of(db: &PgPool, order: &Value, kind: &str, channel: &str) -> Option<(String, i32, Option<String>)> {
    sqlx::query_as(
        "SELECT d.status, d.attempts, d.last_error FROM deliveries d JOIN order_events e ON e.id = d.event_id
         WHERE e.order_id = $1::uuid AND d.kind = $2 AND d.channel = $3",
    )
    .bind(order["id"].as_str().unwrap())
    .bind(kind)
    .bind(channel)
    .fetch_optional(db)
    .await
    .unwrap()
}

async fn wait_for_status(db: &PgPool, order: &Value, kind: &str, status: &str) -> (i32, Option<String>) {
    wait_for_channel_status(db, order, kind, "email", status).await
}

async fn wait_for_channel_status(
    db: &PgPool,
    order: &Value,
    kind: &str,
    channel: &str,
    status: &str,
) -> (i32, Option<String>) {
    for _ in 0..200 {
        if let Some((now, attempts, error)) = delivery_of(db, order, kind, channel).await
            && now == status
        {
            return (attempts, error);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the {kind} {channel} delivery never became {status}: {:?}", delivery_of(db, order, kind, channel).await);
}

fn header_text(message: &mail_parser::Message<'_>, name: &str) -> String {
    message.header_raw(name).unwrap_or_else(|| panic!("no {name} header")).trim().to_owned()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_customer_gets_a_localized_email_and_unsubscribes_in_one_click(db: PgPool) {
    let (shop, _stop) = shop_with_customer_email(db.clone(), "ru").await;
    let first = assign(&shop, "Стиральная машина течёт").await;
    let mails = shop.app.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, [CUSTOMER], "staff get no email unless they ask for it");
    let message = MessageParser::default().parse(mails[0].raw.as_bytes()).unwrap();
    let number = first["number"].as_str().unwrap();
    assert!(message.subject().unwrap().starts_with(&format!("Заказ {number} назначен")), "{:?}", message.subject());
    let text = message.body_text(0).unwrap();
    assert!(text.contains("Стиральная машина течёт") && text.contains("Мастер:"), "{text}");
    assert!(text.contains("/t/"), "the customer's link is the tracking page: {text}");
    let html = message.body_html(0).unwrap();
    assert!(html.contains("lang=\"ru\"") && html.contains("Отписаться"), "{html}");

    assert_eq!(header_text(&message, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    let link = header_text(&message, "List-Unsubscribe");
    let url = link.trim_start_matches('<').trim_end_matches('>');
    let path = &url[url.find("/unsubscribe/").unwrap()..];
    // Opening the link (as a mail scanner would) only asks; it changes nothing.
    let page = shop.app.get(path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let unsubscribed = || sqlx::query_scalar::<_, i64>("SELECT count(*) FROM email_unsubscribes").fetch_one(&db);
    assert_eq!(unsubscribed().await.unwrap(), 0);
    let forged = shop.app.send(one_click(&path.replace(&path[path.len() - 4..], "AAAA"))).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    let done = shop.app.send(one_click(path)).await;
    assert_eq!(done.status, StatusCode::OK, "no sign-in needed");
    assert_eq!(unsubscribed().await.unwrap(), 1);

    let second = assign(&shop, "Dryer").await;
    shop.act_ok(&shop.tech_a, &first, "accept", json!({})).await;
    shop.act_ok(&shop.tech_a, &first, "depart", json!({})).await;
    let mails = shop.app.smtp.wait_for(2).await;
    announced(&db).await;
    let on_the_way = MessageParser::default().parse(mails[1].raw.as_bytes()).unwrap();
    assert!(on_the_way.subject().unwrap().contains("выехал"), "other kinds still arrive");
    assert_eq!(delivery_of(&db, &second, "assign", "email").await, None, "no more assignment emails");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(shop.app.smtp.received().len(), 2);
}

fn one_click(path: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn preferences_choose_channels_and_quiet_hours_delay_messages(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let _stop = start_jobs(&shop.app.state);
    let path = "/api/v1/me/notification-preferences";
    let initial = shop.app.get(path, Some(&shop.tech_a)).await;
    assert_eq!(initial.status, StatusCode::OK);
    let items = initial.body["preferences"].as_array().unwrap();
    assert_eq!(items.len(), preference_kinds().count() * Channel::PERSONAL.len());
    assert!(items.contains(&json!({ "kind": "broadcast", "channel": "telegram", "enabled": true })));
    assert!(items.contains(&json!({ "kind": "assign", "channel": "email", "enabled": false })));
    assert!(items.contains(&json!({ "kind": "assign", "channel": "telegram", "enabled": true })));
    assert_eq!(initial.body["quiet_hours"], Value::Null);

    let bad = shop
        .app
        .patch(
            path,
            Some(&shop.tech_a),
            json!({ "preferences": [
            { "kind": "assign", "channel": "email", "enabled": true },
            { "kind": "party", "channel": "email", "enabled": true },
            { "kind": "assign", "channel": "webhook", "enabled": true }] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad.body);
    assert_eq!(bad.body["error"]["details"]["fields"]["preferences[1].kind"][0]["code"], "invalid_kind");
    assert_eq!(bad.body["error"]["details"]["fields"]["preferences[2].channel"][0]["code"], "invalid_channel");
    let empty =
        shop.app.patch(path, Some(&shop.tech_a), json!({ "quiet_hours": { "start": "22:00", "end": "22:00" } })).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(shop.app.get(path, Some(&shop.tech_a)).await.body, initial.body, "refused changes change nothing");

    // Quiet from an hour ago to an hour from now, in the technician's own time zone.
    let zone: String =
        sqlx::query_scalar("SELECT time_zone FROM users WHERE email = 'a@acme.test'").fetch_one(&db).await.unwrap();
    let now = chrono::Utc::now().with_timezone(&zone.parse::<chrono_tz::Tz>().unwrap());
    let hm = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%H:%M").to_string();
    let quiet = json!({ "start": hm(now - chrono::Duration::hours(1)), "end": hm(now + chrono::Duration::hours(1)) });
    let changed = shop
        .app
        .patch(
            path,
            Some(&shop.tech_a),
            json!({ "quiet_hours": quiet, "preferences": [
            { "kind": "assign", "channel": "email", "enabled": true },
            { "kind": "assign", "channel": "in_app", "enabled": false }] }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["quiet_hours"]["end"], format!("{}:00", quiet["end"].as_str().unwrap()));

    let order = assign(&shop, "Washer").await;
    announced(&db).await;
    let inbox = shop.app.get("/api/v1/notifications", Some(&shop.tech_a)).await;
    assert_eq!(inbox.body["items"], json!([]), "the inbox was turned off for assignments");
    let (status, attempts, _) = delivery_of(&db, &order, "assign", "email").await.expect("an email is owed");
    assert_eq!((status.as_str(), attempts), ("pending", 0));
    let wait: f64 = sqlx::query_scalar(
        "SELECT EXTRACT(epoch FROM next_attempt_at - now())::float8 FROM deliveries WHERE channel = 'email'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!((1800.0..=3700.0).contains(&wait), "the email waits for the quiet hours to end: {wait} s");
    assert!(shop.app.smtp.received().is_empty());

    let off = shop.app.patch(path, Some(&shop.tech_a), json!({ "quiet_hours": null })).await;
    assert_eq!(off.body["quiet_hours"], Value::Null);
    assert_eq!(off.body["preferences"], changed.body["preferences"], "the other choices stay");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn templates_are_overridden_checked_previewed_and_reverted(db: PgPool) {
    let (shop, _stop) = shop_with_customer_email(db.clone(), "en").await;
    let list = "/api/v1/notification-templates?kind=assign";
    for token in [&shop.tech_a, &shop.dispatcher] {
        assert_eq!(shop.app.get(list, Some(token)).await.status, StatusCode::FORBIDDEN);
    }
    let shipped = shop.app.get(list, Some(&shop.admin)).await;
    assert_eq!(shipped.body.as_array().unwrap().len(), 4, "one per language");
    assert!(shipped.body.as_array().unwrap().iter().all(|t| t["customized"] == false));

    let typo = shop
        .app
        .put(
            "/api/v1/notification-templates/assign/en",
            Some(&shop.admin),
            json!({ "subject": "{{ order_nubmer }}", "body": "x" }),
        )
        .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(typo.body["error"]["details"]["fields"]["body"][0]["code"], "invalid_template");
    let unknown = shop
        .app
        .put("/api/v1/notification-templates/party/en", Some(&shop.admin), json!({ "subject": "s", "body": "b" }))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ours = json!({ "subject": "Booked: {{ order_number }}", "body": "{{ technician }} will come. {{ org }}" });
    let put = shop.app.put("/api/v1/notification-templates/assign/en", Some(&shop.admin), ours.clone()).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(put.body["customized"], true);

    let preview = shop
        .app
        .post("/api/v1/notification-templates/preview", Some(&shop.admin), json!({ "kind": "assign", "locale": "en" }))
        .await;
    assert_eq!(preview.body["subject"], "Booked: A-1042", "sample data: {:?}", preview.body);
    let draft = shop
        .app
        .post(
            "/api/v1/notification-templates/preview",
            Some(&shop.admin),
            json!({ "kind": "assign", "locale": "he", "subject": "<{{ customer }}>", "body": "b" }),
        )
        .await;
    assert_eq!(draft.body["subject"], "<Maria Lopez>");
    assert!(
        draft.body["html"].as_str().unwrap().contains("dir=\"rtl\"")
            && draft.body["html"].as_str().unwrap().contains("&lt;Maria")
    );

    let order = assign(&shop, "Washer").await;
    let mails = shop.app.smtp.wait_for(1).await;
    let message = MessageParser::default().parse(mails[0].raw.as_bytes()).unwrap();
    assert_eq!(message.subject().unwrap(), format!("Booked: {}", order["number"].as_str().unwrap()));
    assert!(message.body_text(0).unwrap().contains("will come. Acme Repairs"));
    let with_order = shop
        .app
        .post(
            "/api/v1/notification-templates/preview",
            Some(&shop.admin),
            json!({ "kind": "assign", "locale": "ru", "order_id": order["id"] }),
        )
        .await;
    assert!(with_order.body["subject"].as_str().unwrap().contains(order["number"].as_str().unwrap()));

    let other = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(other, Role::Admin, "admin@rival.test").await;
    let rival = shop.app.token_for("admin@rival.test").await;
    let theirs = shop.app.get(list, Some(&rival)).await;
    assert!(theirs.body.as_array().unwrap().iter().all(|t| t["customized"] == false), "another organization's own");
    let foreign = shop
        .app
        .post(
            "/api/v1/notification-templates/preview",
            Some(&rival),
            json!({ "kind": "assign", "locale": "en", "order_id": order["id"] }),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let path = "/api/v1/notification-templates/assign/en";
    assert_eq!(shop.app.delete(path, Some(&shop.admin)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(shop.app.delete(path, Some(&shop.admin)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(shop.app.get(list, Some(&shop.admin)).await.body, shipped.body);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn failures_are_retried_then_dead_lettered_logged_and_redriven(db: PgPool) {
    let (shop, _stop) = shop_with_customer_email(db.clone(), "en").await;
    shop.app.smtp.defer(CUSTOMER);
    let deferred = assign(&shop, "Washer").await;
    let (attempts, error) = wait_for_status(&db, &deferred, "assign", "pending").await;
    // The first attempt happens at once; wait for it to be recorded.
    let mut last = (attempts, error);
    for _ in 0..100 {
        if last.0 >= 1 && last.1.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        last = wait_for_status(&db, &deferred, "assign", "pending").await;
    }
    assert_eq!(last.0, 1);
    assert!(last.1.as_deref().unwrap().contains("451"), "{last:?}");
    let wait: f64 = sqlx::query_scalar("SELECT EXTRACT(epoch FROM next_attempt_at - now())::float8 FROM deliveries")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!((1.0..=5.0).contains(&wait), "the first retry waits 2.5 to 5 s: {wait}");
    shop.app.smtp.accept_everyone();
    let (attempts, _) = wait_for_status(&db, &deferred, "assign", "sent").await;
    assert_eq!(attempts, 2, "sent on the retry");
    assert_eq!(shop.app.smtp.wait_for(1).await[0].to, [CUSTOMER]);

    shop.app.smtp.refuse(CUSTOMER);
    let refused = assign(&shop, "Dryer").await;
    let (attempts, error) = wait_for_status(&db, &refused, "assign", "dead").await;
    assert_eq!(attempts, 1, "a permanent refusal is not retried");
    assert!(error.unwrap().contains("550"));

    let log = shop.app.get("/api/v1/notification-deliveries?status=dead", Some(&shop.admin)).await;
    assert_eq!(log.status, StatusCode::OK);
    let dead = log.body["items"].as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0]["order_id"].clone(), dead[0]["channel"].clone()), (refused["id"].clone(), json!("email")));
    let everything = shop.app.get("/api/v1/notification-deliveries?limit=1", Some(&shop.admin)).await;
    assert_eq!(everything.body["items"].as_array().unwrap().len(), 1);
    assert!(everything.body["next_cursor"].is_string(), "the log is paged");
    assert_eq!(
        shop.app.get("/api/v1/notification-deliveries", Some(&shop.dispatcher)).await.status,
        StatusCode::FORBIDDEN
    );

    let redrive = format!("/api/v1/notification-deliveries/{}/redrive", dead[0]["id"].as_str().unwrap());
    let other = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(other, Role::Admin, "admin@rival.test").await;
    let rival = shop.app.token_for("admin@rival.test").await;
    assert_eq!(shop.app.post(&redrive, Some(&rival), json!({})).await.status, StatusCode::NOT_FOUND);
    let theirs = shop.app.get("/api/v1/notification-deliveries", Some(&rival)).await;
    assert_eq!(theirs.body["items"], json!([]));

    shop.app.smtp.accept_everyone();
    assert_eq!(shop.app.post(&redrive, Some(&shop.admin), json!({})).await.status, StatusCode::ACCEPTED);
    wait_for_status(&db, &refused, "assign", "sent").await;
    assert_eq!(shop.app.smtp.wait_for(2).await.len(), 2);
    assert_eq!(
        shop.app.post(&redrive, Some(&shop.admin), json!({})).await.status,
        StatusCode::NOT_FOUND,
        "only dead ones"
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn technicians_hear_on_telegram_only_of_their_own_orders_even_through_a_429(db: PgPool) {
    let telegram = crate::support::telegram::FakeTelegram::start().await;
    let shop = Shop::open_with(db.clone(), false, |settings| {
        telegram.configure(settings);
        settings.telegram_chat_interval_ms = 100;
    })
    .await;
    sqlx::query("UPDATE users SET telegram_user_id = CASE email WHEN 'a@acme.test' THEN 1001 WHEN 'b@acme.test' THEN 1002 WHEN 'disp@acme.test' THEN 1003 END WHERE email IN ('a@acme.test', 'b@acme.test', 'disp@acme.test')")
        .execute(&db)
        .await
        .unwrap();
    // Telegram asks technician A's chat to wait 2 s on the first try: the message comes later.
    telegram.answer_429_once(Some(1001), 2);
    let _stop = start_jobs(&shop.app.state);
    let order = assign(&shop, "Washer").await;
    let sent = telegram.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(sent[0].chat_id, 1001);
    assert!(sent[0].text.contains(order["number"].as_str().unwrap()), "{}", sent[0].text);
    let buttons = sent[0].reply_markup.as_ref().unwrap()["inline_keyboard"][0].clone();
    let order_id = order["id"].as_str().unwrap().replace('-', "");
    assert_eq!(buttons[0]["callback_data"], format!("order:{order_id}:accept"));
    assert_eq!(buttons[1]["callback_data"], format!("order:{order_id}:decline"));
    let (attempts, _) = wait_for_channel_status(&db, &order, "assign", "telegram", "sent").await;
    assert_eq!(attempts, 1, "the 429 was waited out within the attempt, not failed");
    let refused = telegram.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 1);

    shop.act_ok(&shop.tech_a, &order, "accept", json!({})).await;
    let sent = telegram.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(sent[1].chat_id, 1003, "the dispatcher hears of the accept");
    announced(&db).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let chats: Vec<i64> = telegram.received().iter().map(|m| m.chat_id).collect();
    assert!(!chats.contains(&1002), "technician B never hears of A's order: {chats:?}");
    assert_eq!(telegram.duplicates(|m| (m.chat_id, m.text.clone())), Vec::new());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn worded_messages_reach_the_named_people_once_by_their_choices_and_can_be_withdrawn(db: PgPool) {
    let telegram = crate::support::telegram::FakeTelegram::start().await;
    let shop = Shop::open_with(db.clone(), false, |settings| telegram.configure(settings)).await;
    let state = &shop.app.state;
    sqlx::query("UPDATE users SET telegram_user_id = CASE email WHEN 'a@acme.test' THEN 2001 ELSE 2002 END WHERE email IN ('a@acme.test', 'b@acme.test')")
        .execute(&db)
        .await
        .unwrap();
    let org: OrgId = sqlx::query_scalar("SELECT org_id FROM users WHERE email = 'a@acme.test'")
        .fetch_one(&db)
        .await
        .map(OrgId)
        .unwrap();
    let other_org = shop.app.with_org("Rival Repairs").await;
    let outsider = shop.app.with_user(other_org, Role::Technician, "spy@rival.test").await;
    sqlx::query("UPDATE users SET telegram_user_id = 2003 WHERE email = 'spy@rival.test'").execute(&db).await.unwrap();
    // Technician B keeps broadcasts out of Telegram, and sets quiet hours around now.
    let b_prefs = json!({ "preferences": [{ "kind": "broadcast", "channel": "telegram", "enabled": false },
                                          { "kind": "broadcast", "channel": "email", "enabled": true }] });
    let changed = shop.app.patch("/api/v1/me/notification-preferences", Some(&shop.tech_b), b_prefs).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let zone: String =
        sqlx::query_scalar("SELECT time_zone FROM users WHERE email = 'b@acme.test'").fetch_one(&db).await.unwrap();
    let now = chrono::Utc::now().with_timezone(&zone.parse::<chrono_tz::Tz>().unwrap());
    let hm = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%H:%M").to_string();
    let quiet = json!({ "quiet_hours": { "start": hm(now - chrono::Duration::hours(1)), "end": hm(now + chrono::Duration::hours(1)) } });
    assert_eq!(
        shop.app.patch("/api/v1/me/notification-preferences", Some(&shop.tech_b), quiet).await.status,
        StatusCode::OK
    );

    let message = |subject: &str| Worded {
        subject: subject.into(),
        body: "Road closed <b>north</b>\nUse the ring road".into(),
        link: None,
    };
    let user = |id: &str| UserId(id.parse().unwrap());
    let to = vec![
        WordedFor { user: user(&shop.tech_a_id), locale: Locale::En, message: message("Heads up") },
        WordedFor { user: user(&shop.tech_b_id), locale: Locale::Ru, message: message("Внимание") },
        WordedFor { user: outsider, locale: Locale::En, message: message("Heads up") },
    ];
    let mut queues = Queues::connect(&state.settings).await.unwrap();
    let source = format!("broadcast:{}", uuid::Uuid::now_v7());
    let added = worded::send_worded(state, &mut queues.deliver, org, &source, "broadcast", &to).await.unwrap();
    // A: inbox + Telegram; B: inbox + email (waiting for quiet hours); the outsider: nothing.
    assert_eq!(added, 4);
    assert_eq!(
        worded::send_worded(state, &mut queues.deliver, org, &source, "broadcast", &to).await.unwrap(),
        0,
        "repeating adds nothing"
    );
    assert!(
        worded::send_worded(state, &mut queues.deliver, org, &source, "assign", &to).await.is_err(),
        "order kinds are worded from events"
    );

    let _stop = start_jobs(state);
    let sent = telegram.wait_for(1, Duration::from_secs(10)).await;
    // The worker records the send once Telegram has answered, a moment after the message arrived.
    for _ in 0..200 {
        let recorded: Option<String> =
            sqlx::query_scalar("SELECT status FROM deliveries WHERE source = $1 AND channel = 'telegram'")
                .bind(&source)
                .fetch_optional(&db)
                .await
                .unwrap();
        if recorded.as_deref() == Some("sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sent[0].chat_id, 2001);
    assert!(sent[0].text.starts_with("<b>Heads up</b>\nRoad closed &lt;b&gt;north&lt;/b&gt;"), "{}", sent[0].text);
    let inbox = shop.app.get("/api/v1/notifications", Some(&shop.tech_b)).await;
    let items = inbox.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", inbox.body);
    assert_eq!(
        (&items[0]["kind"], &items[0]["subject"], &items[0]["order_id"]),
        (&json!("broadcast"), &json!("Внимание"), &Value::Null)
    );
    let spy_inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1")
        .bind(outsider.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(spy_inbox, 0, "another organization's people are passed over");

    // B's email still waits for the quiet hours: withdrawing takes it back; A's sent one stays.
    let waiting: (String, String) =
        sqlx::query_as("SELECT channel, locale FROM deliveries WHERE source = $1 AND status = 'pending'")
            .bind(&source)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(waiting, ("email".to_owned(), "ru".to_owned()));
    assert_eq!(worded::withdraw(&db, other_org, &source).await.unwrap(), 0, "only the sender's organization withdraws");
    assert_eq!(worded::withdraw(&db, org, &source).await.unwrap(), 1);
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, status FROM deliveries WHERE source = $1 ORDER BY channel")
            .bind(&source)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(statuses, [("email".to_owned(), "skipped".to_owned()), ("telegram".to_owned(), "sent".to_owned())]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(telegram.received().len(), 1, "B turned Telegram off for broadcasts and the outsider is not told");
}
