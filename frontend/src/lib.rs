//! Fieldflow's web client: a client-side Leptos app compiled to WASM and served by the backend.
//! Its screens (dashboard, orders, dispatch board, technician cabinet) arrive with the web issues;
//! this is the shell they mount into.

use leptos::prelude::*;

/// The application shell.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main>
            <h1>"Fieldflow"</h1>
            <p>"The API and its documentation are at " <a href="/api/docs">"/api/docs"</a> "."</p>
        </main>
    }
}
