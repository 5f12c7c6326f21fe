//! One stop signal that many tasks wait on: each takes its own `stopped()` future.

use std::future::Future;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// A signal that fires once `stop` completes.
    pub fn on(stop: impl Future<Output = ()> + Send + 'static) -> Self {
        let (stopping, stopped) = watch::channel(false);
        tokio::spawn(async move {
            stop.await;
            let _ = stopping.send(true);
        });
        Self(stopped)
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once the signal has fired (at once if it has already).
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut receiver = self.0.clone();
        async move {
            let _ = receiver.wait_for(|stopped| *stopped).await;
        }
    }
}
