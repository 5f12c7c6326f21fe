//! One-click unsubscribe (RFC 8058) without signing in. Every email carries a link naming its
//! delivery, signed with the server's secret; posting to it turns that kind of message off for that
//! address. A GET shows a confirmation button instead, since mail scanners open links on their own.

use super::repo;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{Locale, OrgId, UserId};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the signature kept in a link: 128 bits cannot be guessed.
const SIGNATURE_BYTES: usize = 16;

fn signature(secret: &str, delivery: Uuid) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(b"fieldflow unsubscribe ");
    mac.update(delivery.as_bytes());
    Some(mac)
}

/// The token of one delivery's link.
pub fn token(secret: &str, delivery: Uuid) -> Option<String> {
    let tag = signature(secret, delivery)?.finalize().into_bytes();
    Some(format!("{}.{}", delivery.simple(), URL_SAFE_NO_PAD.encode(&tag[..SIGNATURE_BYTES])))
}

/// The delivery a token names, when its signature is right (compared in constant time).
pub fn verify(secret: &str, token: &str) -> Option<Uuid> {
    let (id, tag) = token.split_once('.')?;
    let delivery = Uuid::try_parse(id).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    signature(secret, delivery)?.verify_truncated_left(&tag).ok()?;
    (tag.len() == SIGNATURE_BYTES).then_some(delivery)
}

pub fn url(state: &AppState, delivery: Uuid) -> Option<String> {
    let token = token(state.settings.jwt_secret.expose_secret(), delivery)?;
    Some(format!("{}/unsubscribe/{token}", state.settings.public_url.trim_end_matches('/')))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(confirm_page).post(unsubscribe))
}

/// What a link unsubscribes: the delivery's organization, address and event kind.
struct Subscription {
    org: OrgId,
    user: Option<UserId>,
    email: Option<String>,
    kind: String,
    locale: Locale,
}

async fn subscription(state: &AppState, token: &str) -> Result<Option<Subscription>, sqlx::Error> {
    let Some(delivery) = verify(state.settings.jwt_secret.expose_secret(), token) else { return Ok(None) };
    let row = sqlx::query!(
        r#"SELECT org_id AS "org_id: OrgId", user_id AS "user_id: UserId", email, kind, locale
           FROM deliveries WHERE id = $1 AND channel = 'email'"#,
        delivery
    )
    .fetch_optional(&state.db)
    .await?;
    Ok(row.map(|row| Subscription {
        org: row.org_id,
        user: row.user_id,
        email: row.email,
        kind: row.kind,
        locale: Locale::parse(&row.locale).unwrap_or(Locale::En),
    }))
}

async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> (StatusCode, Html<String>) {
    match subscription(&state, &token).await {
        Ok(Some(found)) => {
            let words = Words::of(found.locale);
            let form = format!(
                "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
                 <button type=\"submit\">{}</button></form>",
                words.button
            );
            (StatusCode::OK, page(found.locale, words.confirm, &form))
        }
        Ok(None) => (StatusCode::NOT_FOUND, page(Locale::En, Words::of(Locale::En).invalid, "")),
        Err(error) => failed(&error),
    }
}

async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> (StatusCode, Html<String>) {
    let found = match subscription(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return (StatusCode::NOT_FOUND, page(Locale::En, Words::of(Locale::En).invalid, "")),
        Err(error) => return failed(&error),
    };
    let done = repo::unsubscribe(&state.db, found.org, found.user, found.email.as_deref(), &found.kind).await;
    match done {
        Ok(()) => (StatusCode::OK, page(found.locale, Words::of(found.locale).done, "")),
        Err(error) => failed(&error),
    }
}

fn failed(error: &sqlx::Error) -> (StatusCode, Html<String>) {
    tracing::error!(%error, "unsubscribe failed");
    (StatusCode::SERVICE_UNAVAILABLE, page(Locale::En, "Please try again in a minute.", ""))
}

struct Words {
    confirm: &'static str,
    button: &'static str,
    done: &'static str,
    invalid: &'static str,
}

impl Words {
    fn of(locale: Locale) -> Self {
        match locale {
            Locale::En => Words {
                confirm: "Stop receiving these messages by email?",
                button: "Unsubscribe",
                done: "You will no longer receive these messages by email.",
                invalid: "This unsubscribe link is not valid.",
            },
            Locale::Ru => Words {
                confirm: "Больше не получать такие письма?",
                button: "Отписаться",
                done: "Вы больше не будете получать такие письма.",
                invalid: "Эта ссылка для отписки недействительна.",
            },
            Locale::Ar => Words {
                confirm: "هل تريد إيقاف تلقي هذه الرسائل عبر البريد الإلكتروني؟",
                button: "إلغاء الاشتراك",
                done: "لن تتلقى هذه الرسائل عبر البريد الإلكتروني بعد الآن.",
                invalid: "رابط إلغاء الاشتراك هذا غير صالح.",
            },
            Locale::He => Words {
                confirm: "להפסיק לקבל הודעות אלה בדוא״ל?",
                button: "הסרה",
                done: "לא תקבלו עוד הודעות אלה בדוא״ל.",
                invalid: "קישור ההסרה הזה אינו תקף.",
            },
        }
    }
}

fn page(locale: Locale, message: &str, extra: &str) -> Html<String> {
    let direction = if locale.is_right_to_left() { "rtl" } else { "ltr" };
    Html(format!(
        "<!doctype html><html lang=\"{}\" dir=\"{direction}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Fieldflow</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\"><p>{message}</p>{extra}</body></html>",
        locale.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_unaltered_and_with_the_same_secret() {
        let delivery = Uuid::now_v7();
        let token = token("secret-one", delivery).unwrap();
        assert_eq!(verify("secret-one", &token), Some(delivery));
        assert_eq!(verify("secret-two", &token), None);
        let other = Uuid::now_v7();
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(verify("secret-one", &format!("{}.{tag}", other.simple())), None);
        assert_eq!(verify("secret-one", &format!("{}.", delivery.simple())), None);
        assert_eq!(verify("secret-one", "garbage"), None);
    }
}
