//! Changes to the index one at a time: what a webhook says (an organization created,
//! updated, deleted or merged; a list entry added or removed; a Status set), a company
//! created from the card, and what a live card shows (the live answer wins).

use serde::{Deserialize, Serialize};

use super::postings::hash;
use super::{Entry, Index, IndexedList, Org, StatusValue, clean_domains, domain_key, name_key};
use crate::card::{Card, CardStatus, EntityKind, QueryKind};

/// One change to what the index holds. Serialisable (`{"change": "organization", …}`),
/// so that a gateway can pass the changes it applies to its other replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// An organization was created or updated: its name and every domain now
    /// (`organization.created`, `organization.updated`; a company created from the card).
    Organization { id: i64, name: String, domains: Vec<String> },
    /// An organization was deleted, with its entries (`organization.deleted`).
    OrganizationDeleted { id: i64 },
    /// `removed` was merged into `into`: its entries move there, and it goes
    /// (`organization.merged`; apply `into`'s new name and domains with an
    /// [`Change::Organization`]).
    OrganizationsMerged { removed: i64, into: i64 },
    /// A list of organizations was created or renamed, or its sharing changed.
    List { id: i64, name: String, public: bool },
    /// A list was deleted, with its entries.
    ListDeleted { id: i64 },
    /// An organization was added to a list (`list_entry.created`; the organization and
    /// the list must be known first: apply their changes before).
    EntryAdded { list_id: i64, entry_id: i64, organization_id: i64 },
    /// An entry left its list (`list_entry.deleted`).
    EntryRemoved { list_id: i64, entry_id: i64 },
    /// An entry's Status was set, changed or cleared (`field_value.*` on a Status field).
    Status { list_id: i64, entry_id: i64, status: Option<StatusValue> },
}

impl Change {
    /// The change that makes the index hold `org` as it is (created or updated).
    pub fn organization(org: &affinity_api::models::Organization) -> Change {
        Change::Organization { id: org.id, name: org.name.clone(), domains: org.all_domains() }
    }
}

impl Index {
    /// Applies `change`; returns whether the index changed (then its revision grew). A
    /// change about an organization, list or entry the index does not hold changes
    /// nothing (an entry of an unknown organization, say).
    pub fn apply(&mut self, change: Change) -> bool {
        let changed = match change {
            Change::Organization { id, name, domains } => self.upsert(id, &name, domains.iter().map(String::as_str)),
            Change::OrganizationDeleted { id } => self.remove_org(id),
            Change::OrganizationsMerged { removed, into } => self.merge(removed, into),
            Change::List { id, name, public } => self.upsert_list(id, name, public),
            Change::ListDeleted { id } => self.remove_list(id),
            Change::EntryAdded { list_id, entry_id, organization_id } => {
                self.add_entry(list_id, entry_id, organization_id)
            }
            Change::EntryRemoved { list_id, entry_id } => self.remove_entry(list_id, entry_id),
            Change::Status { list_id, entry_id, status } => self.set_status(list_id, entry_id, status.as_ref()),
        };
        if changed {
            self.changed();
        }
        changed
    }

    /// Learns from a live card, which always wins over the index: a matched organization's
    /// name, domains and entries (on the lists the index holds; a list the card shows and
    /// the index does not know is added, not public until a sync says so), an ambiguous
    /// card's candidates, and a domain nobody has (taken off the organizations the index
    /// filed under it). Cards from the index, with an error or only partial, teach nothing.
    pub fn learn_card(&mut self, card: &Card) -> bool {
        if card.source == crate::card::CardSource::Index || card.error.is_some() || card.partial {
            return false;
        }
        let changed = match card.status {
            CardStatus::Matched => card.entity.as_ref().is_some_and(|e| self.learn_matched(e, card)),
            CardStatus::Ambiguous => {
                let mut changed = false;
                for c in card.candidates.iter().filter(|c| c.kind == EntityKind::Organization) {
                    changed |= self.upsert(c.id, &c.name, c.domains.iter().map(String::as_str));
                }
                changed
            }
            CardStatus::NotFound if card.query.kind == QueryKind::Domain => self.forget_domain(&card.query.value),
            _ => false,
        };
        if changed {
            self.changed();
        }
        changed
    }

    fn learn_matched(&mut self, e: &crate::card::CardEntity, card: &Card) -> bool {
        if e.kind != EntityKind::Organization {
            return false;
        }
        let mut changed = self.upsert(e.id, &e.name, e.domains.iter().map(String::as_str));
        for l in &card.lists {
            if self.list(l.list_id).is_none() {
                changed |= self.upsert_list(l.list_id, l.list_name.clone(), false);
            }
        }
        let Ok(at) = self.org_at(e.id) else { return changed };
        let mut entries: Vec<Entry> = Vec::new();
        for l in &card.lists {
            let Ok(li) = self.lists.binary_search_by_key(&l.list_id, |x| x.id) else { continue };
            let status = l.status.as_ref().map(|s| self.lists[li].status_slot(s));
            entries.push(Entry { list_id: l.list_id, entry_id: l.entry_id, status });
        }
        let org = &mut self.orgs[at];
        if org.entries != entries {
            org.entries = entries;
            changed = true;
        }
        changed
    }

    /// Creates or updates an organization; whether anything changed.
    pub(crate) fn upsert<'a>(&mut self, id: i64, name: &str, domains: impl IntoIterator<Item = &'a str>) -> bool {
        let domains = clean_domains(domains);
        match self.org_at(id) {
            Ok(at) => {
                let org = &self.orgs[at];
                if *org.name == *name && org.domains == domains {
                    return false;
                }
                self.unfile(at);
                self.orgs[at].name = name.into();
                self.orgs[at].domains = domains;
                self.file(at);
            }
            Err(at) => {
                self.orgs.insert(at, Org { id, name: name.into(), domains, entries: Vec::new() });
                self.file(at);
            }
        }
        true
    }

    /// Files the organization at `at` in the look-up tables.
    fn file(&mut self, at: usize) {
        let org = &self.orgs[at];
        for d in org.domains.iter() {
            self.domains.insert(hash(&domain_key(d)), org.id);
        }
        let key = name_key(&org.name);
        if !key.is_empty() {
            self.names.insert(hash(&key), org.id);
        }
    }

    /// Takes the organization at `at` out of the look-up tables.
    fn unfile(&mut self, at: usize) {
        let org = &self.orgs[at];
        for d in org.domains.iter() {
            self.domains.remove(hash(&domain_key(d)), org.id);
        }
        self.names.remove(hash(&name_key(&org.name)), org.id);
    }

    fn remove_org(&mut self, id: i64) -> bool {
        let Ok(at) = self.org_at(id) else { return false };
        self.unfile(at);
        self.orgs.remove(at);
        true
    }

    fn merge(&mut self, removed: i64, into: i64) -> bool {
        if removed == into {
            return false;
        }
        let Ok(from) = self.org_at(removed) else { return false };
        let moved = std::mem::take(&mut self.orgs[from].entries);
        if let Ok(to) = self.org_at(into) {
            for e in moved {
                let target = &mut self.orgs[to].entries;
                if !target.iter().any(|t| t.list_id == e.list_id && t.entry_id == e.entry_id) {
                    target.push(e);
                }
            }
        }
        self.remove_org(removed)
    }

    pub(super) fn upsert_list(&mut self, id: i64, name: String, public: bool) -> bool {
        match self.lists.binary_search_by_key(&id, |l| l.id) {
            Ok(at) => {
                let list = &mut self.lists[at];
                let changed = list.name != name || list.public != public;
                list.name = name;
                list.public = public;
                changed
            }
            Err(at) => {
                self.lists.insert(at, IndexedList::new(id, name, public));
                true
            }
        }
    }

    pub(super) fn remove_list(&mut self, id: i64) -> bool {
        let Ok(at) = self.lists.binary_search_by_key(&id, |l| l.id) else { return false };
        self.lists.remove(at);
        for org in &mut self.orgs {
            org.entries.retain(|e| e.list_id != id);
        }
        true
    }

    fn add_entry(&mut self, list_id: i64, entry_id: i64, organization_id: i64) -> bool {
        if self.list(list_id).is_none() {
            return false;
        }
        let Ok(at) = self.org_at(organization_id) else { return false };
        let entries = &mut self.orgs[at].entries;
        if entries.iter().any(|e| e.list_id == list_id && e.entry_id == entry_id) {
            return false;
        }
        entries.push(Entry { list_id, entry_id, status: None });
        true
    }

    /// Where the entry is: (organization, entry) positions.
    fn entry_at(&self, list_id: i64, entry_id: i64) -> Option<(usize, usize)> {
        self.orgs.iter().enumerate().find_map(|(o, org)| {
            let e = org.entries.iter().position(|e| e.list_id == list_id && e.entry_id == entry_id)?;
            Some((o, e))
        })
    }

    fn remove_entry(&mut self, list_id: i64, entry_id: i64) -> bool {
        let Some((o, e)) = self.entry_at(list_id, entry_id) else { return false };
        self.orgs[o].entries.remove(e);
        true
    }

    fn set_status(&mut self, list_id: i64, entry_id: i64, status: Option<&StatusValue>) -> bool {
        let Some((o, e)) = self.entry_at(list_id, entry_id) else { return false };
        let Ok(li) = self.lists.binary_search_by_key(&list_id, |l| l.id) else { return false };
        let slot = status.map(|s| self.lists[li].status_slot(s));
        let entry = &mut self.orgs[o].entries[e];
        let changed = entry.status != slot;
        entry.status = slot;
        changed
    }

    /// Takes `domain`'s registrable domain off every organization filed under it (a live
    /// look-up found nobody with it).
    fn forget_domain(&mut self, domain: &str) -> bool {
        let key = domain_key(domain);
        let ids: Vec<i64> = self.domains.ids(hash(&key)).collect();
        let mut changed = false;
        for id in ids {
            let Ok(at) = self.org_at(id) else { continue };
            let org = &self.orgs[at];
            let kept: Vec<&str> = org.domains.iter().map(|d| &**d).filter(|d| domain_key(d) != key).collect();
            if kept.len() < org.domains.len() {
                let (name, kept) = (org.name.to_string(), kept.into_iter().map(str::to_owned).collect::<Vec<_>>());
                changed |= self.upsert(id, &name, kept.iter().map(String::as_str));
            }
        }
        changed
    }
}
