//! The sandbox's world: everything it serves, as plain records. Generated from a seed
//! (the same seed gives the same world), or loaded from JSON (`--data`), and written back
//! as JSON (`--dump`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The firm whose API key the sandbox answers for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: i64,
    pub name: String,
    pub subdomain: String,
    /// The person id of the key's user (an internal person).
    pub user_id: i64,
}

/// When, and with which colleagues.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Touch {
    pub date: String,
    #[serde(default)]
    pub person_ids: Vec<i64>,
}

/// Interaction dates of a person or an organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(default)]
    pub first_email: Option<Touch>,
    #[serde(default)]
    pub last_email: Option<Touch>,
    #[serde(default)]
    pub first_event: Option<Touch>,
    #[serde(default)]
    pub last_event: Option<Touch>,
    #[serde(default)]
    pub next_event: Option<Touch>,
    #[serde(default)]
    pub last_chat_message: Option<Touch>,
    #[serde(default)]
    pub last_interaction: Option<Touch>,
}

impl Activity {
    /// Whether there was any interaction at all.
    pub fn is_empty(&self) -> bool {
        self == &Activity::default()
    }
}

/// A person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    /// 0 external, 1 internal.
    #[serde(rename = "type")]
    pub person_type: i64,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
    #[serde(default)]
    pub activity: Activity,
}

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub global: bool,
    #[serde(default)]
    pub person_ids: Vec<i64>,
    #[serde(default)]
    pub activity: Activity,
    /// What Affinity's data enrichment knows of it (API v2's `affinity-data-*` fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enriched: Option<Enrichment>,
}

/// Firmographics from Affinity's own data enrichment (`enrichmentSource: affinity-data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub investment_stage: Option<String>,
    #[serde(default)]
    pub investors: Vec<String>,
    #[serde(default)]
    pub employees: Option<i64>,
    #[serde(default)]
    pub total_funding_usd: Option<f64>,
    #[serde(default)]
    pub last_funding_usd: Option<f64>,
    /// ISO 8601.
    #[serde(default)]
    pub last_funding_date: Option<String>,
    #[serde(default)]
    pub year_founded: Option<i64>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub linkedin_url: Option<String>,
}

/// A dropdown option.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropdownOption {
    pub id: i64,
    pub text: String,
    pub rank: i64,
    pub color: i64,
}

/// A field (global when `list_id` is `None`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    pub id: i64,
    pub name: String,
    pub list_id: Option<i64>,
    /// 0 person, 1 organization, 8 opportunity.
    pub entity_type: i64,
    pub value_type: i64,
    pub allows_multiple: bool,
    #[serde(default)]
    pub dropdown_options: Vec<DropdownOption>,
    #[serde(default)]
    pub track_changes: bool,
}

/// A list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct List {
    pub id: i64,
    /// 0 person, 1 organization, 8 opportunity.
    #[serde(rename = "type")]
    pub list_type: i64,
    pub name: String,
    pub public: bool,
    pub owner_id: i64,
    pub creator_id: i64,
    /// Lists the key's user may not read (403).
    #[serde(default)]
    pub private: bool,
}

/// A list entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListEntry {
    pub id: i64,
    pub list_id: i64,
    pub creator_id: i64,
    pub entity_id: i64,
    pub entity_type: i64,
    pub created_at: String,
}

/// A field value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldValue {
    pub id: i64,
    pub field_id: i64,
    pub entity_id: i64,
    pub entity_type: i64,
    pub list_entry_id: Option<i64>,
    pub value: serde_json::Value,
    pub created_at: String,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A change of a field value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldValueChange {
    pub id: i64,
    pub field_id: i64,
    pub entity_id: i64,
    pub list_entry_id: Option<i64>,
    /// 0 create, 1 delete, 2 update.
    pub action_type: i64,
    pub changer_id: i64,
    pub changed_at: String,
    pub value: serde_json::Value,
}

/// An opportunity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: i64,
    pub name: String,
    pub list_id: i64,
    #[serde(default)]
    pub person_ids: Vec<i64>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
}

/// A relationship strength between a colleague and an external person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Strength {
    pub internal_id: i64,
    pub external_id: i64,
    pub strength: f64,
}

/// An email or a meeting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interaction {
    pub id: i64,
    /// 0 meeting, 1 call, 2 chat, 3 email.
    #[serde(rename = "type")]
    pub interaction_type: i64,
    pub date: String,
    pub subject: String,
    /// Internal first, then external.
    pub person_ids: Vec<i64>,
    pub direction: i64,
}

/// A note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    pub id: i64,
    pub creator_id: i64,
    #[serde(default)]
    pub person_ids: Vec<i64>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
    #[serde(default)]
    pub opportunity_ids: Vec<i64>,
    /// The note this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// The meeting, call or chat message this note is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_id: Option<i64>,
    pub content: String,
    #[serde(rename = "type")]
    pub note_type: i64,
    pub created_at: String,
}

/// Everything the sandbox knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub tenant: Tenant,
    pub persons: Vec<Person>,
    pub organizations: Vec<Organization>,
    pub lists: Vec<List>,
    pub fields: Vec<Field>,
    pub list_entries: Vec<ListEntry>,
    pub field_values: Vec<FieldValue>,
    pub field_value_changes: Vec<FieldValueChange>,
    pub opportunities: Vec<Opportunity>,
    pub strengths: Vec<Strength>,
    pub interactions: Vec<Interaction>,
    pub notes: Vec<Note>,
    /// The next id handed out by a write.
    pub next_id: i64,
    #[serde(skip)]
    pub(super) index: Index,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    person: HashMap<i64, usize>,
    organization: HashMap<i64, usize>,
    strengths_by_external: HashMap<i64, Vec<usize>>,
}

impl World {
    /// A world with nobody in it.
    pub fn empty() -> World {
        World {
            tenant: Tenant { id: 1, name: "Sandbox Ventures".into(), subdomain: "sandbox-ventures".into(), user_id: 1 },
            persons: vec![],
            organizations: vec![],
            lists: vec![],
            fields: vec![],
            list_entries: vec![],
            field_values: vec![],
            field_value_changes: vec![],
            opportunities: vec![],
            strengths: vec![],
            interactions: vec![],
            notes: vec![],
            next_id: 1,
            index: Index::default(),
        }
    }

    /// Rebuilds the look-up indexes (after loading or a write that adds records).
    pub fn reindex(&mut self) {
        let mut index = Index::default();
        for (i, p) in self.persons.iter().enumerate() {
            index.person.insert(p.id, i);
        }
        for (i, o) in self.organizations.iter().enumerate() {
            index.organization.insert(o.id, i);
        }
        for (i, s) in self.strengths.iter().enumerate() {
            index.strengths_by_external.entry(s.external_id).or_default().push(i);
        }
        self.index = index;
    }

    /// Reads a world from JSON (`--data`).
    pub fn from_json(text: &str) -> Result<World, serde_json::Error> {
        let mut world: World = serde_json::from_str(text)?;
        world.settle();
        world.reindex();
        Ok(world)
    }

    /// Makes ids handed out by writes higher than every id in the world, and rebuilds the
    /// indexes.
    pub fn settle(&mut self) {
        let max_id = self
            .persons
            .iter()
            .map(|p| p.id)
            .chain(self.organizations.iter().map(|o| o.id))
            .chain(self.list_entries.iter().map(|e| e.id))
            .chain(self.field_values.iter().map(|v| v.id))
            .chain(self.field_value_changes.iter().map(|c| c.id))
            .chain(self.notes.iter().map(|n| n.id))
            .chain(self.opportunities.iter().map(|o| o.id))
            .chain(self.interactions.iter().map(|i| i.id))
            .chain(self.fields.iter().map(|f| f.id))
            .max()
            .unwrap_or(0);
        self.next_id = self.next_id.max(max_id + 1);
        self.reindex();
    }

    /// A fresh id for a write.
    pub fn new_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// The person with that id.
    pub fn person(&self, id: i64) -> Option<&Person> {
        self.index.person.get(&id).map(|&i| &self.persons[i])
    }

    /// The organization with that id.
    pub fn organization(&self, id: i64) -> Option<&Organization> {
        self.index.organization.get(&id).map(|&i| &self.organizations[i])
    }

    /// The organization with that id, to change it.
    pub fn organization_mut(&mut self, id: i64) -> Option<&mut Organization> {
        let i = *self.index.organization.get(&id)?;
        self.organizations.get_mut(i)
    }

    /// Adds a person.
    pub fn add_person(&mut self, person: Person) {
        self.index.person.insert(person.id, self.persons.len());
        self.persons.push(person);
    }

    /// Adds an organization.
    pub fn add_organization(&mut self, organization: Organization) {
        self.index.organization.insert(organization.id, self.organizations.len());
        self.organizations.push(organization);
    }

    /// Removes a person and what hangs on them: their place among organizations' people,
    /// their list entries and field values, their strengths.
    pub fn delete_person(&mut self, id: i64) {
        self.persons.retain(|p| p.id != id);
        for o in &mut self.organizations {
            o.person_ids.retain(|p| *p != id);
        }
        let entries: Vec<i64> =
            self.list_entries.iter().filter(|e| e.entity_type == 0 && e.entity_id == id).map(|e| e.id).collect();
        self.list_entries.retain(|e| !entries.contains(&e.id));
        self.field_values.retain(|v| {
            let theirs = v.entity_type == 0 && v.entity_id == id;
            let on_their_entry = v.list_entry_id.is_some_and(|e| entries.contains(&e));
            !(theirs || on_their_entry)
        });
        self.strengths.retain(|s| s.external_id != id && s.internal_id != id);
        self.reindex();
    }

    /// Strengths towards an external person.
    pub fn strengths_of(&self, external_id: i64) -> impl Iterator<Item = &Strength> {
        self.index.strengths_by_external.get(&external_id).into_iter().flatten().map(|&i| &self.strengths[i])
    }

    /// The list with that id.
    pub fn list(&self, id: i64) -> Option<&List> {
        self.lists.iter().find(|l| l.id == id)
    }
}
