//! The one-click unsubscribe page: a GET shows a confirmation button (mail scanners open links on
//! their own), a POST (RFC 8058) unsubscribes, in the reader's language.

use super::unsubscribe;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use domain::Locale;

pub fn router() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(confirm_page).post(unsubscribe))
}

async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> (StatusCode, Html<String>) {
    match unsubscribe::subscription(&state, &token).await {
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
    match unsubscribe::unsubscribe(&state, &token).await {
        Ok(Some(locale)) => (StatusCode::OK, page(locale, Words::of(locale).done, "")),
        Ok(None) => (StatusCode::NOT_FOUND, page(Locale::En, Words::of(Locale::En).invalid, "")),
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
