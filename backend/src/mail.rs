//! Outgoing email over SMTP. Without `FIELDFLOW_SMTP_URL` messages are written to the log, so a
//! local setup needs no mail server and still shows reset links.

use crate::config::Settings;
use anyhow::Context;
use lettre::message::Mailbox;
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

/// One plain-text message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
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

    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let Some(transport) = &self.transport else {
            tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "email (no FIELDFLOW_SMTP_URL; logged instead of sent)");
            return Ok(());
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse().context("recipient address")?)
            .subject(mail.subject)
            .body(mail.body)
            .context("building the email")?;
        transport.send(message).await.context("sending the email over SMTP")?;
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
