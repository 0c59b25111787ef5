//! The Leptos components of Affinity Lens. A library only: the web crate mounts them.
//!
//! ```text
//! let (state, set_state) = signal(CardState::Loading);
//! leptos::mount::mount_to(element, move || view! { <CardView state=state /> });
//! ```

mod actions;
mod card;
mod fields;
mod intro;
mod locale;
mod thread;

pub use actions::{ActionProps, CardAction, Notice, WriteGuard, confirm_text, pending_text};
pub use card::{CardState, CardView, PillView, error_text, failure_text, firmographics_text, pill_text};
pub use intro::intro_mailto;
