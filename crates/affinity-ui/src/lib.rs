//! The Leptos components of Affinity Lens. A library only: the web crate mounts them.
//!
//! ```text
//! let (state, set_state) = signal(CardState::Loading);
//! leptos::mount::mount_to(element, move || view! { <CardView state=state /> });
//! ```

mod card;

pub use card::{CardState, CardView};
