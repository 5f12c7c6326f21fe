//! Outgoing email over SMTP. Without `FIELDFLOW_SMTP_URL` messages are written to the log, so a
//! local setup needs no mail server and still shows reset links.

use crate::config::Settings;
use anyhow::Context;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).field("smtp", &self.transport.is_some()).finish()
    }
}

/// One message: plain text and its HTML alternative (every email has both, so every client shows
/// one it can read and the parts say their character set).
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub html: String,
    /// Makes the message unsubscribable in one click (RFC 8058): the URL takes a POST.
    pub unsubscribe_url: Option<String>,
}

/// Why a message was not sent. A permanent failure (the address does not exist, the server refused
/// it for good) will fail again; anything else may pass later.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Permanent(String),
    #[error("{0}")]
    Transient(String),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let from: Mailbox = settings.mail_from.parse().context("FIELDFLOW_MAIL_FROM is not a valid mailbox")?;
        let url = settings.smtp_url.expose_secret();
        let transport = if url.is_empty() {
            None
        } else {
            Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("FIELDFLOW_SMTP_URL is not a valid SMTP URL")?
                    .build(),
            )
        };
        Ok(Self { from, transport })
    }

    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let Some(transport) = &self.transport else {
            tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "email (no FIELDFLOW_SMTP_URL; logged instead of sent)");
            return Ok(());
        };
        let to = mail.to.parse().map_err(|e| MailError::Permanent(format!("recipient address: {e}")))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(mail.subject);
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(mail.body, mail.html))
            .map_err(|e| MailError::Permanent(format!("building the email: {e}")))?;
        transport.send(message).await.map_err(|e| {
            let message = format!("SMTP: {e}");
            if e.is_permanent() { MailError::Permanent(message) } else { MailError::Transient(message) }
        })?;
        Ok(())
    }

    /// Sends without making the caller wait, so a response time says nothing about the recipient.
    pub fn send_in_background(&self, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(error) = mailer.send(mail).await {
                tracing::error!(error = format!("{error:#}"), "email not sent");
            }
        });
    }
}
