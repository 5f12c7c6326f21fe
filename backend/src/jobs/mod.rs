//! Background work, declared and wired in one place: the queues on Redis (`queues`), the workers
//! whose jobs call the areas' services (`workers`, `periodic`), the relay from PostgreSQL to the
//! queues (`relay`) and the periodic scheduler (`scheduler`). PostgreSQL holds what is owed
//! (outbox rows, pending deliveries, periodic runs, unfinished operations), so a job Redis loses
//! is handed over again by the relay or the scheduler. No file here holds SQL.

pub mod periodic;
pub mod queues;
pub mod relay;
pub mod scheduler;
pub mod stop;
pub mod workers;

use crate::state::AppState;
use queues::Queues;
use std::future::Future;
use std::time::Duration;
use stop::StopSignal;

/// How long the jobs wait before trying Redis again when it cannot be reached.
const RETRY: Duration = Duration::from_secs(1);

/// Runs the relay, the periodic scheduler and the workers until `stop`. Redis being down at start
/// only delays them: meanwhile order actions go on and their events wait in the outbox.
pub async fn run_jobs(state: AppState, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let stop = StopSignal::on(stop);
    let queues = loop {
        match Queues::connect(&state.settings).await {
            Ok(queues) => break queues,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "the job queues are unreachable; retrying");
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    () = stop.stopped() => return Ok(()),
                }
            }
        }
    };
    let relay = relay::run_relay(state.clone(), queues.clone(), stop.stopped());
    let scheduler = scheduler::run_scheduler(state.clone(), queues.periodic.clone(), stop.stopped());
    let workers = async {
        // A worker ends when its Redis connection fails (Redis restarted, say); new ones take over
        // once Redis answers, and the relay's sweep hands over the jobs Redis lost.
        loop {
            let worked = workers::run_workers(state.clone(), queues.clone(), stop.clone()).await;
            if stop.is_stopped() {
                return worked;
            }
            let error = worked.err().map(|error| format!("{error:#}")).unwrap_or_default();
            tracing::warn!(error, "the job workers stopped; starting new ones");
            tokio::select! {
                () = tokio::time::sleep(RETRY) => {}
                () = stop.stopped() => return Ok(()),
            }
        }
    };
    // Boxed: inline, the three futures would make every caller's future too large.
    let ((), (), worked) = tokio::join!(Box::pin(relay), Box::pin(scheduler), workers);
    worked
}
