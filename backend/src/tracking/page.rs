//! The tracking page's HTML: self-contained (no external assets), in the organization's language.

use super::repo::TrackedOrder;
use crate::html::escape;
use chrono::{DateTime, Utc};
use domain::Locale;
use domain::orders::OrderStatus;
use std::fmt::Write;

/// The page's words in one language.
struct Words {
    title: &'static str,
    order: &'static str,
    status: &'static str,
    scheduled: &'static str,
    technician: &'static str,
    not_scheduled: &'static str,
    not_assigned: &'static str,
    not_found_title: &'static str,
    not_found_text: &'static str,
    unavailable_text: &'static str,
    /// The date format of the scheduled window.
    date: &'static str,
    /// In the order of `OrderStatus`: new, assigned, accepted, en route, in progress, on hold,
    /// completed, closed, cancelled.
    statuses: [&'static str; 9],
}

const EN: Words = Words {
    title: "Order tracking",
    order: "Order",
    status: "Status",
    scheduled: "Scheduled",
    technician: "Technician",
    not_scheduled: "Not scheduled yet",
    not_assigned: "Not assigned yet",
    not_found_title: "Link not found",
    not_found_text: "This tracking link is not valid. Please check the link or contact the service company.",
    unavailable_text: "The page is temporarily unavailable. Please try again later.",
    date: "%Y-%m-%d",
    statuses: [
        "Received",
        "Technician assigned",
        "Confirmed",
        "Technician on the way",
        "Work in progress",
        "On hold",
        "Completed",
        "Closed",
        "Cancelled",
    ],
};

const RU: Words = Words {
    title: "Отслеживание заказа",
    order: "Заказ",
    status: "Статус",
    scheduled: "Время визита",
    technician: "Мастер",
    not_scheduled: "Время ещё не назначено",
    not_assigned: "Мастер ещё не назначен",
    not_found_title: "Ссылка не найдена",
    not_found_text: "Эта ссылка для отслеживания недействительна. Проверьте ссылку или свяжитесь с сервисной компанией.",
    unavailable_text: "Страница временно недоступна. Попробуйте позже.",
    date: "%d.%m.%Y",
    statuses: [
        "Принят",
        "Мастер назначен",
        "Подтверждён",
        "Мастер в пути",
        "Работа выполняется",
        "Приостановлен",
        "Выполнен",
        "Закрыт",
        "Отменён",
    ],
};

const AR: Words = Words {
    title: "تتبع الطلب",
    order: "الطلب",
    status: "الحالة",
    scheduled: "الموعد",
    technician: "الفني",
    not_scheduled: "لم يُحدَّد الموعد بعد",
    not_assigned: "لم يُعيَّن فني بعد",
    not_found_title: "الرابط غير موجود",
    not_found_text: "رابط التتبع هذا غير صالح. يرجى التحقق من الرابط أو التواصل مع شركة الخدمة.",
    unavailable_text: "الصفحة غير متاحة مؤقتًا. يرجى المحاولة لاحقًا.",
    date: "%d/%m/%Y",
    statuses: [
        "تم الاستلام",
        "تم تعيين فني",
        "تم التأكيد",
        "الفني في الطريق",
        "العمل جارٍ",
        "معلّق",
        "مكتمل",
        "مغلق",
        "ملغى",
    ],
};

const HE: Words = Words {
    title: "מעקב הזמנה",
    order: "הזמנה",
    status: "סטטוס",
    scheduled: "מועד",
    technician: "טכנאי",
    not_scheduled: "טרם נקבע מועד",
    not_assigned: "טרם שובץ טכנאי",
    not_found_title: "הקישור לא נמצא",
    not_found_text: "קישור המעקב אינו תקף. אנא בדקו את הקישור או פנו לחברת השירות.",
    unavailable_text: "הדף אינו זמין כרגע. אנא נסו שוב מאוחר יותר.",
    date: "%d.%m.%Y",
    statuses: ["התקבלה", "שובץ טכנאי", "אושרה", "הטכנאי בדרך", "העבודה מתבצעת", "בהמתנה", "הושלמה", "נסגרה", "בוטלה"],
};

fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::En => &EN,
        Locale::Ru => &RU,
        Locale::Ar => &AR,
        Locale::He => &HE,
    }
}

fn status_name(words: &Words, status: OrderStatus) -> &'static str {
    let index = OrderStatus::ALL.iter().position(|s| *s == status).unwrap_or(0);
    words.statuses[index]
}

const STYLE: &str = "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f3f5f8;\
color:#1d2430}main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem}header{font-size:.95rem;color:#5b6575;\
margin-bottom:.75rem}h1{font-size:1.35rem;margin:0 0 1rem}.card{background:#fff;border-radius:.75rem;\
padding:1rem 1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}dl{margin:0}dt{font-size:.8rem;color:#5b6575;\
margin-top:.85rem}dt:first-child{margin-top:0}dd{margin:.15rem 0 0;font-size:1.05rem}.status{font-weight:600;\
color:#0b5cad}p{margin:0;line-height:1.5}";

/// The whole document around `body` (already escaped HTML).
fn document(locale: Locale, title: &str, body: &str) -> String {
    let dir = if locale.is_right_to_left() { "rtl" } else { "ltr" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        lang = locale.as_str(),
        title = escape(title),
    )
}

fn window(order: &TrackedOrder, words: &Words) -> Option<String> {
    let tz = order.time_zone.tz();
    let local = |at: DateTime<Utc>| at.with_timezone(&tz);
    let start = local(order.scheduled_start?);
    let mut text = format!("{} {}", start.format(words.date), start.format("%H:%M"));
    if let Some(end) = order.scheduled_end.map(local) {
        let end_text = if end.date_naive() == start.date_naive() {
            end.format("%H:%M").to_string()
        } else {
            format!("{} {}", end.format(words.date), end.format("%H:%M"))
        };
        let _ = write!(text, " \u{2013} {end_text}");
    }
    let _ = write!(text, " ({})", order.time_zone.as_str());
    Some(text)
}

pub fn render(order: &TrackedOrder) -> String {
    let words = words(order.locale);
    let technician = order
        .technician_name
        .as_deref()
        .and_then(|name| name.split_whitespace().next())
        .map_or_else(|| escape(words.not_assigned), escape);
    let scheduled = window(order, words).map_or_else(|| escape(words.not_scheduled), |w| escape(&w));
    let body = format!(
        "<header>{org}</header>\n<h1>{title}</h1>\n<div class=\"card\">\n<dl>\n\
         <dt>{order_label}</dt><dd dir=\"ltr\">{number}</dd>\n\
         <dt>{status_label}</dt><dd class=\"status\">{status}</dd>\n\
         <dt>{scheduled_label}</dt><dd><bdi>{scheduled}</bdi></dd>\n\
         <dt>{technician_label}</dt><dd>{technician}</dd>\n</dl>\n</div>\n",
        org = escape(order.org_name.as_str()),
        title = escape(words.title),
        order_label = escape(words.order),
        number = escape(&order.number),
        status_label = escape(words.status),
        status = escape(status_name(words, order.status)),
        scheduled_label = escape(words.scheduled),
        technician_label = escape(words.technician),
    );
    document(order.locale, &format!("{} {} \u{2013} {}", words.order, order.number, order.org_name.as_str()), &body)
}

/// An unknown token; the organization is unknown too, so English.
pub fn not_found() -> String {
    message(EN.not_found_title, EN.not_found_text)
}

pub fn unavailable() -> String {
    message(EN.title, EN.unavailable_text)
}

fn message(title: &str, text: &str) -> String {
    let body = format!("<h1>{}</h1>\n<div class=\"card\"><p>{}</p></div>\n", escape(title), escape(text));
    document(Locale::En, title, &body)
}
