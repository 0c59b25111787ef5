//! The card in a page: the overlay, the popup and the web component mount it and feed it.

use lens_core::actions::{CompanyChoice, ListChoice};
use lens_core::card::PersonRef;
use lens_core::{Card, CardError};
use lens_ui::{ActionProps, CardAction, CardState, CardView, Notice, PillView, WriteGuard, failure_text, pending_text};
use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{from_js, to_js};

/// A mounted card. JS must keep it: dropping it unmounts the view.
#[wasm_bindgen]
pub struct CardHandle {
    set_state: WriteSignal<CardState>,
    set_choices: WriteSignal<Vec<ListChoice>>,
    set_people: WriteSignal<Vec<PersonRef>>,
    set_companies: WriteSignal<Vec<CompanyChoice>>,
    set_notice: WriteSignal<Option<Notice>>,
    set_expanded: WriteSignal<bool>,
    set_guard: WriteSignal<WriteGuard>,
    _mount: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

#[wasm_bindgen]
impl CardHandle {
    /// Shows a Card (the JSON object of the contract).
    #[wasm_bindgen(js_name = setCard)]
    pub fn set_card(&self, card: JsValue) -> Result<(), JsValue> {
        let card: Card =
            serde_wasm_bindgen::from_value(card).map_err(|e| JsValue::from_str(&format!("not a Card: {e}")))?;
        self.set_state.set(CardState::Ready(Box::new(card)));
        Ok(())
    }

    /// Shows a failed reply's error (`{kind, message, retry_at}`) in words.
    #[wasm_bindgen(js_name = setFailure)]
    pub fn set_failure(&self, error: JsValue) -> Result<(), JsValue> {
        let error: CardError = from_js(error, "error")?;
        self.set_state.set(CardState::Failed(failure_text(&error)));
        Ok(())
    }

    /// Whether writes may go ahead: `"allowed"`, `"hidden"` (the frame is covered or faded:
    /// no write) or `"confirm"` (the browser cannot tell: each write asks first, and is
    /// confirmed with a key press).
    #[wasm_bindgen(js_name = setWriteGuard)]
    pub fn set_write_guard(&self, guard: JsValue) -> Result<(), JsValue> {
        self.set_guard.set(from_js(guard, "write guard")?);
        Ok(())
    }

    /// Shows an error that happened before any card existed.
    #[wasm_bindgen(js_name = setError)]
    pub fn set_error(&self, message: String) {
        self.set_state.set(CardState::Failed(message));
    }

    /// Not looked up on purpose (`message` says why); the refresh callback looks it up.
    #[wasm_bindgen(js_name = setIdle)]
    pub fn set_idle(&self, message: String) {
        self.set_state.set(CardState::Idle(message));
    }

    /// Back to the loading state (before a refresh).
    #[wasm_bindgen(js_name = setLoading)]
    pub fn set_loading(&self) {
        self.set_state.set(CardState::Loading);
    }

    /// The lists the card offers (`listChoices(...).lists`).
    #[wasm_bindgen(js_name = setChoices)]
    pub fn set_choices(&self, lists: JsValue) -> Result<(), JsValue> {
        self.set_choices.set(from_js(lists, "lists")?);
        Ok(())
    }

    /// The team, whom the card's person fields may name (`lens:choices`' `people`).
    #[wasm_bindgen(js_name = setPeople)]
    pub fn set_people(&self, people: JsValue) -> Result<(), JsValue> {
        self.set_people.set(from_js(people, "people")?);
        Ok(())
    }

    /// The companies found for the card's last `{find}` (`lens:companies`' `companies`).
    #[wasm_bindgen(js_name = setCompanies)]
    pub fn set_companies(&self, companies: JsValue) -> Result<(), JsValue> {
        self.set_companies.set(from_js(companies, "companies")?);
        Ok(())
    }

    /// `{ok, text, pending}` under the card's actions, or `null` to clear it.
    #[wasm_bindgen(js_name = setNotice)]
    pub fn set_notice(&self, notice: JsValue) -> Result<(), JsValue> {
        let notice = if notice.is_null() || notice.is_undefined() { None } else { Some(from_js(notice, "notice")?) };
        self.set_notice.set(notice);
        Ok(())
    }

    /// Overlay only: the card (`true`) or the pill (`false`).
    #[wasm_bindgen(js_name = setExpanded)]
    pub fn set_expanded(&self, expanded: bool) {
        self.set_expanded.set(expanded);
    }
}

/// The callbacks of `mountCard`, all optional.
struct MountOptions {
    on_refresh: Option<js_sys::Function>,
    on_action: Option<js_sys::Function>,
    /// Overlay mode: a pill that expands to the card; called with the new state.
    on_expand: Option<js_sys::Function>,
    on_close: Option<js_sys::Function>,
    expanded: bool,
}

fn function(options: &JsValue, name: &str) -> Option<js_sys::Function> {
    js_sys::Reflect::get(options, &JsValue::from_str(name)).ok()?.dyn_into().ok()
}

fn callback<T: Serialize + 'static>(f: Option<js_sys::Function>) -> Option<Callback<T>> {
    f.map(|f| {
        let f = send_wrapper::SendWrapper::new(f);
        Callback::new(move |arg: T| {
            let arg = to_js(&arg).unwrap_or(JsValue::NULL);
            let _ = f.call1(&JsValue::NULL, &arg);
        })
    })
}

/// How long a card may say "Looking up…" before it says that Affinity did not answer (ms).
pub const TIME_LIMIT_MS: u32 = 20_000;

/// `timeLimitMs()`: how long the card may wait for an answer before it gives up.
#[wasm_bindgen(js_name = timeLimitMs)]
pub fn time_limit_ms() -> u32 {
    TIME_LIMIT_MS
}

/// `mountCard(element, {onRefresh, onAction, onExpand, onClose, expanded})`: renders the
/// card (loading) into `element`. With `onRefresh` the card has a refresh button; with
/// `onAction` its writes (called with the action object; answer with `setNotice`; a
/// `false` return holds a write: the card then does not say it is under way); with
/// `onExpand` it is the overlay: a pill (`expanded: false`) that opens to the card, which
/// folds back, and a close button with `onClose`. A function instead of the object is
/// `onRefresh`.
#[wasm_bindgen(js_name = mountCard)]
pub fn mount_card(element: web_sys::HtmlElement, options: JsValue) -> CardHandle {
    let options = if let Some(f) = options.dyn_ref::<js_sys::Function>() {
        MountOptions { on_refresh: Some(f.clone()), on_action: None, on_expand: None, on_close: None, expanded: true }
    } else {
        MountOptions {
            on_refresh: function(&options, "onRefresh"),
            on_action: function(&options, "onAction"),
            on_expand: function(&options, "onExpand"),
            on_close: function(&options, "onClose"),
            expanded: js_sys::Reflect::get(&options, &JsValue::from_str("expanded"))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    };
    let (state, set_state) = signal(CardState::Loading);
    let (choices, set_choices) = signal(Vec::<ListChoice>::new());
    let (people, set_people) = signal(Vec::<PersonRef>::new());
    let (companies, set_companies) = signal(Vec::<CompanyChoice>::new());
    let (notice, set_notice) = signal(None::<Notice>);
    let overlay = options.on_expand.is_some();
    let (expanded, set_expanded) = signal(!overlay || options.expanded);
    let (guard, set_guard) = signal(WriteGuard::Allowed);
    let on_refresh = callback::<()>(options.on_refresh);
    // A write says what it does at once, in the card's own words, while the host performs it
    // (unless the host answers `false`: it held the write, and says so itself).
    let actions = options.on_action.map(|f| {
        let f = send_wrapper::SendWrapper::new(f);
        let on_action = Callback::new(move |action: CardAction| {
            let answer = f.call1(&JsValue::NULL, &to_js(&action).unwrap_or(JsValue::NULL));
            let held = answer.ok().and_then(|a| a.as_bool()) == Some(false);
            if let (false, CardAction::Write { action: write, .. }) = (held, &action) {
                set_notice.set(Some(Notice { ok: true, text: pending_text(write), pending: true }));
            }
        });
        let mut props = ActionProps::new(on_action, choices.into(), notice.into(), guard.into());
        (props.people, props.companies) = (people.into(), companies.into());
        props
    });
    let on_expand = callback::<bool>(options.on_expand);
    let expand = on_expand.map(|cb| {
        Callback::new(move |open: bool| {
            set_expanded.set(open);
            cb.run(open);
        })
    });
    let on_close = callback::<()>(options.on_close);
    let collapse = expand.map(|cb| Callback::new(move |_: ()| cb.run(false)));
    let mount = leptos::mount::mount_to(element, move || {
        let card = move || {
            view! { <CardView state=state on_refresh=on_refresh actions=actions on_collapse=collapse on_close=on_close /> }
                .into_any()
        };
        match expand {
            Some(expand) => (move || {
                if expanded.get() {
                    card()
                } else {
                    view! { <PillView state=state on_expand=Callback::new(move |_| expand.run(true)) /> }.into_any()
                }
            })
            .into_any(),
            None => card(),
        }
    });
    CardHandle { set_state, set_choices, set_people, set_companies, set_notice, set_expanded, set_guard, _mount: mount }
}
