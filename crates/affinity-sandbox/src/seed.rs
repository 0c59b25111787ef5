//! The generated world: about 5,000 organizations and 20,000 persons around a team of 15,
//! 8 lists, with the hard cases placed on purpose (see the README's sandbox section).
//! The same seed gives the same world. [`generate_sized`] makes one of any size (`--orgs`,
//! `--lists`): the first 5,000 organizations are those of the default world, the others
//! get names and domains of their own (some share a domain, some have several), and the
//! lists grow with the square root of the directory.

use chrono::{Duration as Days, TimeZone, Utc};
use serde_json::json;

use super::world::*;

/// The internal team; the first is the key's user.
const TEAM: [(&str, &str); 15] = [
    ("Alice", "Doe"),
    ("Ben", "Okafor"),
    ("Carla", "Mendes"),
    ("Dev", "Patel"),
    ("Elena", "Rossi"),
    ("Farid", "Haddad"),
    ("Grace", "Kim"),
    ("Hugo", "Laurent"),
    ("Ines", "García"),
    ("Jonas", "Berg"),
    ("Kemi", "Adeyemi"),
    ("Liam", "O'Brien"),
    ("Mei", "Chen"),
    ("Nora", "Schmidt"),
    ("Omar", "Said"),
];
const FIRST: [&str; 40] = [
    "Adam", "Bea", "Chris", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jade", "Kai", "Lena", "Max", "Nia", "Oscar",
    "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wes", "Xena", "Yuri", "Zane", "Amir", "Bruno", "Chloé",
    "Diego", "Emma", "Felix", "Greta", "Hiro", "Isla", "Jon", "Kira", "Luca", "Mila", "Noah",
];
const LAST: [&str; 40] = [
    "Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Müller", "Novak",
    "Kowalski", "Silva", "Santos", "Nakamura", "Tanaka", "Ivanova", "Larsen", "Nilsen", "Moreau", "Dubois", "Bianchi",
    "Romano", "Cohen", "Levi", "Singh", "Sharma", "Nguyen", "Tran", "Park", "Lee", "Ali", "Khan", "Hughes", "Green",
    "Baker", "Hall", "Young", "King",
];
const ADJ: [&str; 30] = [
    "Blue", "Bright", "Quantum", "Silver", "Rapid", "Clear", "Bold", "Green", "Deep", "Open", "Swift", "Prime",
    "Lunar", "Solar", "Iron", "Velvet", "Hidden", "Noble", "Urban", "Crisp", "Polar", "Amber", "Cobalt", "Vivid",
    "Quiet", "Nimble", "Atomic", "Coral", "Golden", "Stellar",
];
const NOUN: [&str; 30] = [
    "Harbor", "Labs", "Forge", "Pixel", "Wave", "Ledger", "Orbit", "Canvas", "Signal", "Vector", "Grid", "Bridge",
    "Cloud", "Beacon", "Pilot", "Anchor", "Nest", "Loop", "Spark", "Field", "Stack", "Compass", "Garden", "Engine",
    "Atlas", "Circuit", "Harvest", "Studio", "Works", "Dynamics",
];
const TLDS: [&str; 8] = ["com", "io", "ai", "co", "co.uk", "de", "fr", "vc"];

/// Ids of the organizations placed on purpose.
pub mod ids {
    pub const ACME: i64 = 7133202;
    pub const GLOBEX: i64 = 7133203;
    pub const INITECH: i64 = 7133204;
    pub const ACME_ANVILS: i64 = 7133205;
    pub const MEGACORP: i64 = 7133206;
    pub const SOLO: i64 = 7133207;
    pub const SHARED_ONE: i64 = 7133208;
    pub const SHARED_TWO: i64 = 7133209;
    pub const NO_DOMAIN: i64 = 7133210;
    pub const HTML_NAME: i64 = 7133211;
    pub const UNICODE: i64 = 7133212;
    pub const TWICE_LISTED: i64 = 7133213;
    /// The key's user, Alice Doe.
    pub const ALICE: i64 = 26317;
    pub const DEAL_PIPELINE: i64 = 10;
    pub const PORTFOLIO: i64 = 11;
    pub const CO_INVESTORS: i64 = 12;
    pub const TALENT: i64 = 13;
    pub const LP_PROSPECTS: i64 = 14;
    pub const FUNDRAISING: i64 = 15;
    pub const EVENTS: i64 = 16;
    pub const BOARD_CONFIDENTIAL: i64 = 17;
}

struct Gen {
    rng: fastrand::Rng,
    next: i64,
    world: World,
}

fn date(days_ago: i64) -> String {
    let anchor = Utc.with_ymd_and_hms(2026, 11, 20, 17, 0, 0).single().expect("valid anchor");
    (anchor - Days::days(days_ago)).format("%Y-%m-%dT%H:%M:%S%.3f-08:00").to_string().replace("-08:00", "Z")
}

impl Gen {
    fn id(&mut self) -> i64 {
        self.next += 1;
        self.next
    }

    fn team(&self) -> Vec<i64> {
        self.world.persons.iter().take(TEAM.len()).filter(|p| p.person_type == 1).map(|p| p.id).collect()
    }

    fn pick_team(&mut self, n: usize) -> Vec<i64> {
        let team = self.team();
        let mut out = Vec::new();
        while out.len() < n.min(team.len()) {
            let id = team[self.rng.usize(..team.len())];
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// One to `max` colleagues.
    fn pick_some(&mut self, max: usize) -> Vec<i64> {
        let n = 1 + self.rng.usize(..max);
        self.pick_team(n)
    }

    fn touch(&mut self, days_ago: i64) -> Touch {
        Touch { date: date(days_ago), person_ids: self.pick_some(2) }
    }

    fn activity(&mut self, recent: bool) -> Activity {
        if !recent && self.rng.f32() < 0.3 {
            return Activity::default();
        }
        let last_email = self.rng.i64(1..400);
        let first_email = last_email + self.rng.i64(0..900);
        let last_event = self.rng.i64(3..500);
        let next_in = self.rng.i64(1..30);
        let next_event = if self.rng.f32() < 0.15 { Some(self.touch(-next_in)) } else { None };
        let first_event = last_event + self.rng.i64(0..300);
        let last = last_email.min(last_event);
        Activity {
            first_email: Some(self.touch(first_email)),
            last_email: Some(self.touch(last_email)),
            first_event: Some(self.touch(first_event)),
            last_event: Some(self.touch(last_event)),
            next_event,
            last_chat_message: None,
            last_interaction: Some(self.touch(last)),
        }
    }

    fn person(&mut self, first: &str, last: &str, email_domain: Option<&str>, org: Option<i64>, recent: bool) -> i64 {
        let id = self.id();
        let emails = match email_domain {
            Some(d) => {
                let local: String = format!("{}.{}", first, last)
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                let local = if local.trim_matches('.').is_empty() { format!("person{id}") } else { local };
                vec![format!("{local}@{d}")]
            }
            None => vec![],
        };
        let activity = self.activity(recent);
        if !activity.is_empty() {
            for internal in self.pick_some(3) {
                let strength = ((self.rng.f64() * 0.9 + 0.05) * 100.0).round() / 100.0;
                self.world.strengths.push(Strength {
                    internal_id: internal,
                    external_id: id,
                    strength: strength.min(0.99),
                });
            }
        }
        self.world.add_person(Person {
            id,
            person_type: 0,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            emails,
            organization_ids: org.into_iter().collect(),
            activity,
        });
        if let Some(org) = org
            && let Some(o) = self.world.organization_mut(org)
        {
            o.person_ids.push(id);
        }
        id
    }

    fn organization(&mut self, id: i64, name: &str, domains: &[&str]) -> i64 {
        self.world.add_organization(Organization {
            id,
            name: name.to_owned(),
            domain: domains.first().map(|d| d.to_string()),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            global: false,
            person_ids: vec![],
            activity: Activity::default(),
            enriched: None,
        });
        id
    }

    fn people_for(&mut self, org: i64, domain: Option<&str>, count: usize) {
        for i in 0..count {
            let first = FIRST[self.rng.usize(..FIRST.len())];
            let last = LAST[(self.rng.usize(..LAST.len()) + i) % LAST.len()];
            self.person(first, last, domain, Some(org), false);
        }
    }

    fn field(
        &mut self,
        list_id: Option<i64>,
        entity_type: i64,
        name: &str,
        value_type: i64,
        multi: bool,
        options: &[&str],
    ) -> i64 {
        let id = self.id();
        let dropdown_options = options
            .iter()
            .enumerate()
            .map(|(i, text)| DropdownOption {
                id: id * 10 + i as i64,
                text: text.to_string(),
                rank: i as i64 + 1,
                color: (i as i64) % 7,
            })
            .collect();
        self.world.fields.push(Field {
            id,
            name: name.to_owned(),
            list_id,
            entity_type,
            value_type,
            allows_multiple: multi,
            dropdown_options,
            track_changes: value_type == 7 || value_type == 3,
        });
        id
    }

    fn list(&mut self, id: i64, list_type: i64, name: &str, private: bool) {
        let owner = ids::ALICE;
        self.world.lists.push(List {
            id,
            list_type,
            name: name.to_owned(),
            public: !private,
            owner_id: owner,
            creator_id: owner,
            private,
        });
    }

    /// Adds an entry with Status (and its history), Owners and Amount where the list has them.
    fn entry(&mut self, list_id: i64, entity_id: i64, entity_type: i64) -> i64 {
        let id = self.id();
        let added = self.rng.i64(30..900);
        let creator = self.pick_team(1)[0];
        self.world.list_entries.push(ListEntry {
            id,
            list_id,
            creator_id: creator,
            entity_id,
            entity_type,
            created_at: date(added),
        });
        let fields: Vec<Field> = self.world.fields.iter().filter(|f| f.list_id == Some(list_id)).cloned().collect();
        for field in fields {
            match (field.name.as_str(), field.value_type) {
                ("Status", 7) => {
                    // A history of one to three changes; the last one is the current Status.
                    let steps = 1 + self.rng.usize(..3);
                    let mut day = added;
                    let mut current = None;
                    for step in 0..steps {
                        let option = &field.dropdown_options[self.rng.usize(..field.dropdown_options.len())];
                        let value =
                            json!({ "id": option.id, "text": option.text, "rank": option.rank, "color": option.color });
                        let changed_at = date(day);
                        self.world.field_value_changes.push(FieldValueChange {
                            id: self.next + 1,
                            field_id: field.id,
                            entity_id,
                            list_entry_id: Some(id),
                            action_type: if step == 0 { 0 } else { 2 },
                            changer_id: creator,
                            changed_at: changed_at.clone(),
                            value: value.clone(),
                        });
                        self.next += 1;
                        current = Some((value, changed_at));
                        day = (day - self.rng.i64(1..60)).max(1);
                    }
                    let (value, updated) = current.expect("at least one step");
                    let vid = self.id();
                    self.world.field_values.push(FieldValue {
                        id: vid,
                        field_id: field.id,
                        entity_id,
                        entity_type,
                        list_entry_id: Some(id),
                        value,
                        created_at: date(added),
                        updated_at: (steps > 1).then_some(updated),
                    });
                }
                ("Owners", 0) => {
                    for owner in self.pick_some(2) {
                        let vid = self.id();
                        self.world.field_values.push(FieldValue {
                            id: vid,
                            field_id: field.id,
                            entity_id,
                            entity_type,
                            list_entry_id: Some(id),
                            value: json!(owner),
                            created_at: date(added),
                            updated_at: None,
                        });
                    }
                }
                ("Amount", 3) => {
                    let amount = (self.rng.u32(1..400) as f64) * 25_000.0;
                    let vid = self.id();
                    self.world.field_values.push(FieldValue {
                        id: vid,
                        field_id: field.id,
                        entity_id,
                        entity_type,
                        list_entry_id: Some(id),
                        value: json!(amount),
                        created_at: date(added),
                        updated_at: None,
                    });
                }
                _ => {}
            }
        }
        id
    }

    fn note(&mut self, organization_ids: Vec<i64>, person_ids: Vec<i64>, content: &str) {
        let id = self.id();
        let creator = self.pick_team(1)[0];
        let days = self.rng.i64(1..300);
        self.world.notes.push(Note {
            id,
            creator_id: creator,
            person_ids,
            organization_ids,
            opportunity_ids: vec![],
            parent_id: None,
            interaction_id: None,
            content: content.to_owned(),
            note_type: 0,
            created_at: date(days),
        });
    }

    fn interactions_for(&mut self, external: i64) {
        let Some(p) = self.world.person(external).cloned() else { return };
        for (kind, touch) in [(3, &p.activity.last_email), (0, &p.activity.last_event), (3, &p.activity.first_email)] {
            if let Some(t) = touch {
                let id = self.id();
                let subject = if kind == 3 {
                    format!("Re: catching up, {}", p.first_name)
                } else {
                    format!("Meeting with {}", p.first_name)
                };
                let mut person_ids = t.person_ids.clone();
                person_ids.push(external);
                self.world.interactions.push(Interaction {
                    id,
                    interaction_type: kind,
                    date: t.date.clone(),
                    subject,
                    person_ids,
                    direction: (id % 2),
                });
            }
        }
    }
}

/// Sets each organization's activity from its people's: earliest first, latest last,
/// soonest next.
fn roll_up_activity(world: &mut World) {
    let persons: std::collections::HashMap<i64, Activity> =
        world.persons.iter().map(|p| (p.id, p.activity.clone())).collect();
    for org in &mut world.organizations {
        let mut a = Activity::default();
        for pid in &org.person_ids {
            let Some(pa) = persons.get(pid) else { continue };
            let pick = |cur: &mut Option<Touch>, new: &Option<Touch>, later: bool| {
                if let Some(n) = new {
                    let better = match cur {
                        None => true,
                        Some(c) => (n.date > c.date) == later,
                    };
                    if better {
                        *cur = Some(n.clone());
                    }
                }
            };
            pick(&mut a.first_email, &pa.first_email, false);
            pick(&mut a.last_email, &pa.last_email, true);
            pick(&mut a.first_event, &pa.first_event, false);
            pick(&mut a.last_event, &pa.last_event, true);
            pick(&mut a.next_event, &pa.next_event, false);
            pick(&mut a.last_chat_message, &pa.last_chat_message, true);
            pick(&mut a.last_interaction, &pa.last_interaction, true);
        }
        org.activity = a;
    }
}

/// How big a generated world is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Organizations in the directory (the 12 placed on purpose included).
    pub organizations: usize,
    /// Lists (at least the default world's 8; more are organization lists).
    pub lists: usize,
}

impl Default for Size {
    /// The default world: 5,000 organizations, 8 lists.
    fn default() -> Self {
        Size { organizations: 5_000, lists: 8 }
    }
}

impl Size {
    /// How much longer lists are than the default world's: the square root of the
    /// directory's growth (a firm with ten times the organizations does not have ten times
    /// the deals).
    fn list_factor(&self) -> f64 {
        (self.organizations.max(12) as f64 / 5_000.0).sqrt()
    }
}

/// The default world for `seed`.
pub fn generate(seed: u64) -> World {
    generate_sized(seed, Size::default())
}

/// The world of `size` for `seed`: the same seed and size give the same world.
pub fn generate_sized(seed: u64, size: Size) -> World {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
        next: 100_000,
        world: World {
            tenant: Tenant {
                id: 1,
                name: "Sandbox Ventures".into(),
                subdomain: "sandbox-ventures".into(),
                user_id: ids::ALICE,
            },
            ..World::empty()
        },
    };

    // The team.
    for (i, (first, last)) in TEAM.iter().enumerate() {
        let id = if i == 0 { ids::ALICE } else { g.id() };
        let email = format!("{}@sandbox-ventures.test", first.to_lowercase());
        g.world.add_person(Person {
            id,
            person_type: 1,
            first_name: first.to_string(),
            last_name: last.to_string(),
            emails: vec![email],
            organization_ids: vec![],
            activity: Activity::default(),
        });
    }

    // Lists and their fields.
    let statuses = ["Sourced", "In Progress", "Diligence", "IC Review", "Passed", "Closed Won"];
    for (id, ty, name, private, status) in [
        (ids::DEAL_PIPELINE, 1, "Deal Pipeline", false, Some(&statuses[..])),
        (ids::PORTFOLIO, 1, "Portfolio", false, Some(&["Active", "Exited", "Written Off"][..])),
        (ids::CO_INVESTORS, 1, "Co-investors", false, Some(&["Warm", "Cold", "Lead"][..])),
        (ids::TALENT, 0, "Talent", false, Some(&["To contact", "Contacted", "Interviewing", "Hired"][..])),
        (ids::LP_PROSPECTS, 0, "LP Prospects", false, Some(&["Prospect", "Meeting", "Committed"][..])),
        (ids::FUNDRAISING, 8, "Fundraising Opportunities", false, Some(&["New", "Term Sheet", "Closed"][..])),
        (ids::EVENTS, 1, "Events", false, None),
        (ids::BOARD_CONFIDENTIAL, 1, "Board Confidential", true, Some(&["Watch", "Act"][..])),
    ] {
        g.list(id, ty, name, private);
        if let Some(options) = status {
            g.field(Some(id), ty, "Status", 7, false, options);
            g.field(Some(id), ty, "Owners", 0, true, &[]);
            if matches!(id, ids::DEAL_PIPELINE | ids::PORTFOLIO | ids::LP_PROSPECTS | ids::FUNDRAISING) {
                g.field(Some(id), ty, "Amount", 3, false, &[]);
            }
        }
    }
    g.field(None, 1, "Industry", 2, false, &["Fintech", "Health", "Climate", "AI", "Consumer", "Developer Tools"]);
    g.field(None, 1, "Location", 5, false, &[]);
    g.field(None, 0, "Job Title", 6, false, &[]);

    // The organizations placed on purpose, and their people.
    g.organization(ids::ACME, "Acme Corporation", &["acme.test", "acme.localhost", "acme.com"]);
    g.organization(ids::GLOBEX, "Globex", &["globex.test", "globex.localhost"]);
    g.organization(ids::INITECH, "Initech", &["initech.test", "initech.localhost"]);
    g.organization(ids::ACME_ANVILS, "Acme Anvils (unrelated)", &["acmeanvils.test"]);
    g.organization(ids::MEGACORP, "Megacorp", &["megacorp.test"]);
    g.organization(ids::SOLO, "Solo Labs", &["solo.test"]);
    g.organization(ids::SHARED_ONE, "Shared Domain One", &["shared.test"]);
    g.organization(ids::SHARED_TWO, "Shared Domain Two", &["shared.test"]);
    g.organization(ids::NO_DOMAIN, "No Domain Holdings", &[]);
    g.organization(ids::HTML_NAME, "<b>Bold</b> & Sons <script>alert(1)</script>", &["html.test"]);
    g.organization(ids::UNICODE, "Ünïcødé Straße Ωmega 株式会社", &["unicode.test", "xn--strae-oqa.test"]);
    g.organization(ids::TWICE_LISTED, "Twice Listed Inc", &["twice.test"]);

    let bob = g.person("Bob", "Smith", Some("acme.test"), Some(ids::ACME), true);
    g.world.strengths.retain(|s| s.external_id != bob);
    g.world.strengths.push(Strength { internal_id: ids::ALICE, external_id: bob, strength: 0.82 });
    g.world.strengths.push(Strength { internal_id: g.team()[1], external_id: bob, strength: 0.41 });
    g.person("Nomail", "Person", None, Some(ids::ACME), true);
    g.people_for(ids::ACME, Some("acme.test"), 18);
    // Alice's 0.82 with Bob is Acme's strongest connection (the demo's story).
    let acme_people = g.world.organization(ids::ACME).map(|o| o.person_ids.clone()).unwrap_or_default();
    for s in g.world.strengths.iter_mut().filter(|s| s.external_id != bob && acme_people.contains(&s.external_id)) {
        s.strength = (s.strength * 0.8 * 100.0).round() / 100.0;
    }
    g.person("Alex", "Morgan", Some("globex.test"), Some(ids::GLOBEX), true);
    g.people_for(ids::GLOBEX, Some("globex.test"), 4);
    g.person("Alex", "Morgan", Some("initech.test"), Some(ids::INITECH), true);
    g.people_for(ids::INITECH, Some("initech.test"), 2);
    g.people_for(ids::MEGACORP, Some("megacorp.test"), 150);
    g.person("Sola", "Founder", Some("solo.test"), Some(ids::SOLO), true);
    g.person("Zoë", "Ångström", Some("unicode.test"), Some(ids::UNICODE), true);
    g.person("José", "Núñez", Some("unicode.test"), Some(ids::UNICODE), true);
    g.person("雷", "李", Some("unicode.test"), Some(ids::UNICODE), true);
    g.people_for(ids::SHARED_ONE, Some("shared.test"), 2);
    g.people_for(ids::SHARED_TWO, Some("shared.test"), 2);
    g.people_for(ids::NO_DOMAIN, None, 2);
    g.people_for(ids::TWICE_LISTED, Some("twice.test"), 3);

    // The generated many.
    let mut used = std::collections::HashSet::new();
    while g.world.organizations.len() < size.organizations.min(5_000) {
        let name = format!("{} {}", ADJ[g.rng.usize(..ADJ.len())], NOUN[g.rng.usize(..NOUN.len())]);
        let slug = name.to_lowercase().replace(' ', "");
        let tld = TLDS[g.rng.usize(..TLDS.len())];
        let mut domain = format!("{slug}.{tld}");
        let mut n = 2;
        while !used.insert(domain.clone()) {
            domain = format!("{slug}{n}.{tld}");
            n += 1;
        }
        let display = if n > 2 { format!("{name} {}", n - 1) } else { name };
        let id = g.id();
        let mut domains = vec![domain.clone()];
        if g.rng.f32() < 0.1 {
            domains.push(format!("{}.io", domain.split('.').next().unwrap_or("x")));
        }
        let refs: Vec<&str> = domains.iter().map(String::as_str).collect();
        g.organization(id, &display, &refs);
        let people = g.rng.usize(0..7);
        g.people_for(id, Some(&domain), people);
    }
    more_organizations(&mut g, seed, size.organizations, &mut used);
    while g.world.persons.len() < 20_000 {
        let first = FIRST[g.rng.usize(..FIRST.len())];
        let last = LAST[g.rng.usize(..LAST.len())];
        g.person(first, last, Some("gmail.test"), None, false);
    }
    roll_up_activity(&mut g.world);

    more_lists(&mut g, size);
    // List entries, with the hard cases.
    g.entry(ids::DEAL_PIPELINE, ids::ACME, 1);
    g.entry(ids::PORTFOLIO, ids::ACME, 1);
    g.entry(ids::DEAL_PIPELINE, ids::TWICE_LISTED, 1);
    g.entry(ids::DEAL_PIPELINE, ids::TWICE_LISTED, 1);
    g.entry(ids::PORTFOLIO, ids::GLOBEX, 1);
    g.entry(ids::CO_INVESTORS, ids::INITECH, 1);
    g.entry(ids::DEAL_PIPELINE, ids::MEGACORP, 1);
    g.entry(ids::BOARD_CONFIDENTIAL, ids::ACME, 1);
    g.entry(ids::TALENT, bob, 0);
    let org_ids: Vec<i64> = g.world.organizations.iter().skip(12).map(|o| o.id).collect();
    let person_ids: Vec<i64> = g.world.persons.iter().filter(|p| p.person_type == 0).map(|p| p.id).collect();
    for (list, count, pool) in [
        (ids::DEAL_PIPELINE, 800, &org_ids),
        (ids::PORTFOLIO, 150, &org_ids),
        (ids::CO_INVESTORS, 100, &org_ids),
        (ids::EVENTS, 200, &org_ids),
        (ids::BOARD_CONFIDENTIAL, 20, &org_ids),
        (ids::TALENT, 300, &person_ids),
        (ids::LP_PROSPECTS, 100, &person_ids),
    ] {
        let entity_type = if list == ids::TALENT || list == ids::LP_PROSPECTS { 0 } else { 1 };
        let count = (count as f64 * size.list_factor()).round() as usize;
        for _ in 0..count {
            let entity = pool[g.rng.usize(..pool.len())];
            g.entry(list, entity, entity_type);
        }
    }

    more_list_entries(&mut g, size, &org_ids);

    // Opportunities, each on the opportunity list.
    let mut opp_orgs = vec![ids::ACME, ids::GLOBEX];
    for _ in 0..298 {
        opp_orgs.push(org_ids[g.rng.usize(..org_ids.len())]);
    }
    for (i, org) in opp_orgs.into_iter().enumerate() {
        let id = g.id();
        let name = g.world.organization(org).map(|o| o.name.clone()).unwrap_or_default();
        let round = ["Seed", "Series A", "Series B", "Series C"][i % 4];
        let person_ids = g.world.organization(org).and_then(|o| o.person_ids.first().copied()).into_iter().collect();
        g.world.opportunities.push(Opportunity {
            id,
            name: format!("{name} {round}"),
            list_id: ids::FUNDRAISING,
            person_ids,
            organization_ids: vec![org],
        });
        g.entry(ids::FUNDRAISING, id, 8);
    }

    // Global field values for some organizations.
    let industry = g.world.fields.iter().find(|f| f.name == "Industry").cloned().expect("industry field");
    let location = g.world.fields.iter().find(|f| f.name == "Location").map(|f| f.id).expect("location field");
    for org in org_ids.iter().step_by(3).chain([ids::ACME].iter()) {
        let option = &industry.dropdown_options[g.rng.usize(..industry.dropdown_options.len())];
        let (vid, lid) = (g.id(), g.id());
        let created = date(g.rng.i64(10..900));
        g.world.field_values.push(FieldValue {
            id: vid,
            field_id: industry.id,
            entity_id: *org,
            entity_type: 1,
            list_entry_id: None,
            value: json!(option.text),
            created_at: created.clone(),
            updated_at: None,
        });
        let city = ["San Francisco", "London", "Berlin", "Paris", "Lagos", "Singapore"][g.rng.usize(..6)];
        g.world.field_values.push(FieldValue {
            id: lid,
            field_id: location,
            entity_id: *org,
            entity_type: 1,
            list_entry_id: None,
            value: json!({ "street_address": null, "city": city, "state": null, "country": null, "continent": null }),
            created_at: created,
            updated_at: None,
        });
    }

    // Interactions and notes.
    let special_people: Vec<i64> = [ids::ACME, ids::GLOBEX, ids::INITECH, ids::SOLO, ids::MEGACORP]
        .iter()
        .filter_map(|o| g.world.organization(*o))
        .flat_map(|o| o.person_ids.clone())
        .collect();
    for p in special_people {
        g.interactions_for(p);
    }
    for i in 0..1_500 {
        let org = org_ids[g.rng.usize(..org_ids.len())];
        g.note(vec![org], vec![], &format!("Call notes #{i}: strong team, revisit after their next round."));
    }
    g.note(vec![ids::ACME], vec![bob], "Met Bob at the Acme offsite. <b>Not HTML</b>: shown as text.");
    g.note(vec![ids::ACME], vec![], "Acme is raising a Series A in Q1.");

    // Megacorp has raised five rounds: more opportunities than an opened card reads the
    // Status of (the most recent ones), so that what such a card costs is measured too.
    for round in ["Seed", "Series A", "Series B", "Series C", "Series D"] {
        let id = g.id();
        g.world.opportunities.push(Opportunity {
            id,
            name: format!("Megacorp {round}"),
            list_id: ids::FUNDRAISING,
            person_ids: Vec::new(),
            organization_ids: vec![ids::MEGACORP],
        });
        g.entry(ids::FUNDRAISING, id, 8);
    }

    deal_fields(&mut g, seed);
    acme_notes(&mut g);
    enrich(&mut g.world, seed);
    g.world.next_id = g.next + 1;
    g.world.settle();
    g.world
}

/// Acme's notes, dated so that a card's three latest are known: an HTML note (yesterday),
/// Bob's note with markup in its text (3 days ago), an intro (10 days ago); older, the
/// Series A note and the first call. Added last, without the generator's RNG.
fn acme_notes(g: &mut Gen) {
    let team = g.team();
    for n in g.world.notes.iter_mut().filter(|n| n.organization_ids == [ids::ACME]) {
        n.created_at = date(if n.content.starts_with("Met Bob") { 3 } else { 40 });
    }
    let notes: [(&str, i64, i64, usize); 3] = [
        (
            "<p>Diligence call: <strong>strong</strong> net retention &amp; a clear path to Series C.</p><p>Next: references.</p>",
            2,
            1,
            1,
        ),
        ("Intro from Northwind Capital: they lead the Series B and want a co-investor.", 0, 10, 0),
        ("First call with the founders.", 0, 60, 1),
    ];
    for (content, note_type, days, who) in notes {
        let id = g.id();
        g.world.notes.push(Note {
            id,
            creator_id: team[who % team.len()],
            person_ids: vec![],
            organization_ids: vec![ids::ACME],
            opportunity_ids: vec![],
            parent_id: None,
            interaction_id: None,
            content: content.to_owned(),
            note_type,
            created_at: date(days),
        });
    }
}

/// The Deal Pipeline's other fields, one of every kind a card edits: a dropdown, a ranked
/// dropdown besides Status, a multi-valued dropdown, text, a date and organizations (Status,
/// Owners and Amount are made with the list). Added last, with values from an RNG of their
/// own, so that every other record of the world is the one it was without them.
fn deal_fields(g: &mut Gen, seed: u64) {
    let list = Some(ids::DEAL_PIPELINE);
    let source = g.field(list, 1, "Source", 2, false, &["Referral", "Inbound", "Outbound", "Conference"]);
    let priority = g.field(list, 1, "Priority", 7, false, &["High", "Medium", "Low"]);
    let sectors = g.field(list, 1, "Sectors", 2, true, &["Fintech", "Health", "Climate", "AI", "Developer Tools"]);
    let next_step = g.field(list, 1, "Next Step", 6, false, &[]);
    let close = g.field(list, 1, "Close Date", 4, false, &[]);
    let co_investors = g.field(list, 1, "Co-investors", 1, true, &[]);
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x00de_a1f1_e1d5);
    let entries: Vec<(i64, i64)> = (g.world.list_entries.iter())
        .filter(|e| e.list_id == ids::DEAL_PIPELINE)
        .map(|e| (e.id, e.entity_id))
        .collect();
    let field = |g: &Gen, id: i64| g.world.fields.iter().find(|f| f.id == id).cloned().expect("field just made");
    let (source_f, priority_f, sectors_f) = (field(g, source), field(g, priority), field(g, sectors));
    for (entry, entity) in entries {
        let put = |g: &mut Gen, field_id: i64, value: serde_json::Value| {
            let id = g.id();
            g.world.field_values.push(FieldValue {
                id,
                field_id,
                entity_id: entity,
                entity_type: 1,
                list_entry_id: Some(entry),
                value,
                created_at: date(30),
                updated_at: None,
            });
        };
        if entity == ids::ACME {
            // The demo's deal: each field set, so that the card shows (and a test edits) one
            // of every kind.
            let option = |f: &Field, text: &str| f.dropdown_options.iter().find(|o| o.text == text).cloned();
            let high = option(&priority_f, "High").expect("option");
            put(g, source, json!("Referral"));
            put(g, priority, json!({ "id": high.id, "text": high.text, "rank": high.rank, "color": high.color }));
            put(g, sectors, json!("AI"));
            put(g, sectors, json!("Developer Tools"));
            put(g, next_step, json!("Partner meeting with the CEO"));
            put(g, close, json!("2027-01-15T08:00:00.000Z"));
            put(g, co_investors, json!(ids::GLOBEX));
            continue;
        }
        if rng.bool() {
            let o = &source_f.dropdown_options[rng.usize(..source_f.dropdown_options.len())];
            put(g, source, json!(o.text));
        }
        if rng.f32() < 0.3 {
            let o = &priority_f.dropdown_options[rng.usize(..priority_f.dropdown_options.len())];
            put(g, priority, json!({ "id": o.id, "text": o.text, "rank": o.rank, "color": o.color }));
        }
        if rng.f32() < 0.3 {
            let o = &sectors_f.dropdown_options[rng.usize(..sectors_f.dropdown_options.len())];
            put(g, sectors, json!(o.text));
        }
    }
}

// ---- worlds larger than the default -------------------------------------------------------

const SYLLABLES: [&str; 24] = [
    "ze", "ta", "lo", "vi", "ra", "no", "quo", "en", "ka", "mi", "so", "ri", "ve", "da", "lu", "xa", "bo", "ni", "te",
    "ar", "cel", "dro", "fi", "gen",
];
const ENDINGS: [&str; 9] = ["", "", "", "ly", "io", "ex", "a", "on", "ix"];
const SECTORS: [&str; 20] = [
    "Robotics",
    "Health",
    "Analytics",
    "Capital",
    "Bio",
    "Energy",
    "Labs",
    "Systems",
    "Pay",
    "Security",
    "Logistics",
    "Foods",
    "Mobility",
    "Learning",
    "Cloud",
    "Networks",
    "Materials",
    "Therapeutics",
    "Insurance",
    "Media",
];
const REGIONS: [&str; 5] = ["Europe", "Asia", "Americas", "UK", "Nordics"];

/// A made-up company name: a brand of two or three syllables ("Zetalo", "Kavirix"),
/// often with a sector ("Zetalo Robotics"), sometimes two words of the default world's.
fn company_name(rng: &mut fastrand::Rng) -> String {
    if rng.f32() < 0.15 {
        let adj = ADJ[rng.usize(..ADJ.len())];
        return format!("{adj} {} {}", NOUN[rng.usize(..NOUN.len())], SECTORS[rng.usize(..SECTORS.len())]);
    }
    let mut brand: String = (0..2 + rng.usize(..2)).map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())]).collect();
    brand.push_str(ENDINGS[rng.usize(..ENDINGS.len())]);
    let mut chars = brand.chars();
    let brand: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
    if rng.f32() < 0.6 { format!("{brand} {}", SECTORS[rng.usize(..SECTORS.len())]) } else { brand }
}

/// The organizations past the default world's 5,000, from an RNG of their own: distinct
/// names, a domain each (unique but for about one in 200, a regional arm sharing its
/// parent's domain), about one in ten with a second or third domain, and a few people.
fn more_organizations(g: &mut Gen, seed: u64, total: usize, used: &mut std::collections::HashSet<String>) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x0b16_0c0d_e5a1);
    let mut names: std::collections::HashSet<String> = g.world.organizations.iter().map(|o| o.name.clone()).collect();
    while g.world.organizations.len() < total {
        let id = g.id();
        if rng.f32() < 0.005
            && let Some(parent) = g.world.organizations.get(12 + rng.usize(..g.world.organizations.len() - 12))
        {
            let (name, domains) =
                (format!("{} {}", parent.name, REGIONS[rng.usize(..REGIONS.len())]), parent.domains.clone());
            if names.insert(name.clone()) {
                let refs: Vec<&str> = domains.iter().map(String::as_str).collect();
                g.organization(id, &name, &refs);
                continue;
            }
        }
        let mut name = company_name(&mut rng);
        while !names.insert(name.clone()) {
            name = format!("{name} {}", SECTORS[rng.usize(..SECTORS.len())]);
        }
        let slug: String = name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
        let tld = TLDS[rng.usize(..TLDS.len())];
        let mut domain = format!("{slug}.{tld}");
        let mut n = 2;
        while !used.insert(domain.clone()) {
            domain = format!("{slug}{n}.{tld}");
            n += 1;
        }
        let mut domains = vec![domain.clone()];
        for extra in ["ai", "io", "com"].iter().filter(|_| rng.f32() < 0.05) {
            let other = format!("{slug}.{extra}");
            if !domains.contains(&other) {
                domains.push(other);
            }
        }
        let refs: Vec<&str> = domains.iter().map(String::as_str).collect();
        g.organization(id, &name, &refs);
        let people = rng.usize(0..4);
        g.people_for(id, Some(&domain), people);
    }
}

/// Organization lists past the default world's 8 (ids from 18), every other one with a
/// Status.
const MORE_LISTS: [&str; 8] =
    ["Watchlist", "Sector Map", "Inbound", "Follow-ons", "Conference Leads", "Scouts", "Secondaries", "Alumni"];

fn more_lists(g: &mut Gen, size: Size) {
    for i in 0..size.lists.saturating_sub(8) {
        let id = 18 + i as i64;
        let name = match MORE_LISTS.get(i) {
            Some(n) => n.to_string(),
            None => format!("Organizations {}", i + 1),
        };
        g.list(id, 1, &name, false);
        if i % 2 == 0 {
            g.field(Some(id), 1, "Status", 7, false, &["New", "Tracking", "Engaged", "Dropped"]);
        }
    }
}

/// Entries of the lists [`more_lists`] made: 150 to 450 each in the default world's
/// terms, grown like the others.
fn more_list_entries(g: &mut Gen, size: Size, org_ids: &[i64]) {
    for i in 0..size.lists.saturating_sub(8) {
        let count = ((150 + 100 * (i % 4)) as f64 * size.list_factor()).round() as usize;
        for _ in 0..count {
            let entity = org_ids[g.rng.usize(..org_ids.len())];
            g.entry(18 + i as i64, entity, 1);
        }
    }
}

const INDUSTRIES: [&str; 12] = [
    "Fintech",
    "SaaS",
    "Healthcare",
    "Climate",
    "Artificial Intelligence",
    "Developer Tools",
    "Consumer",
    "Security",
    "Biotechnology",
    "Logistics",
    "Education",
    "Marketplaces",
];
const STAGES: [&str; 6] = ["Seed", "Series A", "Series B", "Series C", "Growth", "Public Markets"];
const INVESTORS: [&str; 10] = [
    "Northwind Capital",
    "Bluefield Partners",
    "Sequel Ventures",
    "Orbit Fund",
    "Harbor Growth",
    "Lumen Seed",
    "Granite VC",
    "Tidewater Capital",
    "Summit Angels",
    "Kestrel Partners",
];
const PLACES: [(&str, Option<&str>, &str); 8] = [
    ("San Francisco", Some("California"), "United States"),
    ("New York", Some("New York"), "United States"),
    ("London", None, "United Kingdom"),
    ("Berlin", None, "Germany"),
    ("Paris", None, "France"),
    ("Lagos", None, "Nigeria"),
    ("Singapore", None, "Singapore"),
    ("Toronto", Some("Ontario"), "Canada"),
];

/// Affinity's data enrichment for most organizations (about 85%; none for the ones without a
/// domain), from an RNG of its own so that the rest of the world is the same as without it.
fn enrich(world: &mut World, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x00e1_1c4e_d000);
    for org in &mut world.organizations {
        if org.domain.is_none() || rng.f32() >= 0.85 {
            continue;
        }
        let founded = rng.i64(1995..2025);
        let stage = STAGES[rng.usize(..STAGES.len())];
        let rounds = 1 + STAGES.iter().position(|s| *s == stage).unwrap_or(0) as i64;
        let last = (rng.u32(5..400) as f64) * 250_000.0;
        let total = last * (1.0 + rounds as f64 * 0.6);
        let (city, state, country) = PLACES[rng.usize(..PLACES.len())];
        let mut industries: Vec<String> = Vec::new();
        for _ in 0..1 + rng.usize(..3) {
            let i = INDUSTRIES[rng.usize(..INDUSTRIES.len())].to_owned();
            if !industries.contains(&i) {
                industries.push(i);
            }
        }
        let slug = org.domain.as_deref().and_then(|d| d.split('.').next()).unwrap_or("company").to_owned();
        org.enriched = Some(Enrichment {
            description: Some(format!("{} builds {} products.", org.name, industries[0].to_lowercase())),
            investment_stage: Some(stage.to_owned()),
            investors: (0..1 + rng.usize(..3)).map(|_| INVESTORS[rng.usize(..INVESTORS.len())].to_owned()).collect(),
            employees: Some(rng.i64(2..5_000)),
            total_funding_usd: Some(total.round()),
            last_funding_usd: Some(last),
            last_funding_date: Some(date(rng.i64(20..1_500))),
            year_founded: Some(founded),
            city: Some(city.to_owned()),
            state: state.map(str::to_owned),
            country: Some(country.to_owned()),
            linkedin_url: Some(format!("https://www.linkedin.com/company/{slug}")),
            industries,
        });
    }
    // The demo's company has its facts fixed, so that the card's line can be checked.
    if let Some(acme) = world.organizations.iter_mut().find(|o| o.id == ids::ACME) {
        acme.enriched = Some(Enrichment {
            description: Some("Acme Corporation makes everything, from anvils to rockets.".into()),
            industries: vec!["Manufacturing".into(), "Aerospace".into()],
            investment_stage: Some("Series B".into()),
            investors: vec!["Northwind Capital".into(), "Orbit Fund".into()],
            employees: Some(420),
            total_funding_usd: Some(48_500_000.0),
            last_funding_usd: Some(30_000_000.0),
            last_funding_date: Some("2025-06-12T00:00:00Z".into()),
            year_founded: Some(2014),
            city: Some("San Francisco".into()),
            state: Some("California".into()),
            country: Some("United States".into()),
            linkedin_url: Some("https://www.linkedin.com/company/acme".into()),
        });
    }
}
