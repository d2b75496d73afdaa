//! Deterministic demo data. The same [`SeedSpec`] always yields the same records (ids,
//! properties, timestamps and associations), generated with ChaCha8 from `seed`.
//!
//! Applied to **every** configured portal, each with the same data (ids are allocated per
//! portal, so they match across portals too). Seeded writes emit no changes and are searchable
//! at once. Records: companies (name, domain, industry, size, revenue, city), contacts whose
//! names and emails are the Userflow simulator's demo users ([`demo_email`]: contact `n` has
//! the email of Userflow user `n` for the same seed, so the first `users` contacts exist in both
//! systems and the rest only in HubSpot, as newsletter-only contacts do), each associated to one
//! company as primary
//! (types 279 + 1), deals associated to a company (341 + 5) and one or two of its contacts (4),
//! and, with `custom_objects`, a `projects` custom object with a few records tied to companies.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Simulator;
use super::changes::ChangeSource;
use super::crm::properties::PropertyInput;
use super::crm::schemas::{SchemaInput, create_in};
use super::store::{COMPANIES, CONTACTS, DEALS, Tx};
use crate::userflow::seed::{demo_email, demo_person};

/// What to generate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SeedSpec {
    /// Random seed. Default 42.
    pub seed: u64,
    /// Contacts per portal. Default 50.
    pub contacts: usize,
    /// Companies per portal. Default 10.
    pub companies: usize,
    /// Deals per portal. Default 15.
    pub deals: usize,
    /// Also create the `projects` custom object with records. Default false.
    pub custom_objects: bool,
}

impl Default for SeedSpec {
    fn default() -> Self {
        Self {
            seed: 42,
            contacts: 50,
            companies: 10,
            deals: 15,
            custom_objects: false,
        }
    }
}

/// 2024-01-01T00:00:00Z: seeded records are created from here on, one second apart.
const BASE_MS: i64 = 1_704_067_200_000;

const ADJ: &[&str] = &[
    "Blue", "Bright", "Clear", "Delta", "Green", "Iron", "Lunar", "North", "Quick", "Red",
    "Silver", "Summit",
];
const NOUN: &[&str] = &[
    "Harbor", "Peak", "River", "Forge", "Field", "Stone", "Wave", "Pine", "Bridge", "Cloud",
    "Signal", "Oak",
];
const SUFFIX: &[&str] = &[
    "Labs",
    "Systems",
    "Partners",
    "Works",
    "Group",
    "Analytics",
    "Software",
    "Health",
];
const INDUSTRY: &[&str] = &[
    "ACCOUNTING",
    "COMPUTER_SOFTWARE",
    "FINANCIAL_SERVICES",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "MARKETING_AND_ADVERTISING",
    "RETAIL",
];
const CITY: &[(&str, &str)] = &[
    ("Berlin", "Germany"),
    ("Boston", "United States"),
    ("Dublin", "Ireland"),
    ("London", "United Kingdom"),
    ("Paris", "France"),
    ("Toronto", "Canada"),
];
const JOB: &[&str] = &[
    "CEO",
    "CTO",
    "Head of Sales",
    "Product Manager",
    "Engineer",
    "Marketing Lead",
    "Analyst",
];
const STAGE: &[&str] = &[
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
];
const DEAL_STAGE: &[&str] = &[
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "contractsent",
    "closedwon",
    "closedlost",
];
const PRODUCT: &[&str] = &[
    "Annual plan",
    "Pilot",
    "Expansion",
    "Renewal",
    "Onboarding package",
];

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

fn p(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

/// Seeds every portal of the simulator (see the module doc).
pub fn apply(sim: &Simulator) {
    let spec = sim.inner.config.seed.clone();
    let store = &sim.inner.store;
    for portal in store.portal_ids() {
        let source = ChangeSource {
            change_source: "IMPORT".into(),
            source_id: None,
        };
        store.write(portal, None, source, |tx| seed_portal(tx, &spec));
        store.flush_index(portal);
    }
}

/// Generates the records of one portal inside a transaction.
pub fn seed_portal(tx: &mut Tx<'_>, spec: &SeedSpec) {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut clock = BASE_MS;
    let mut tick = |tx: &mut Tx<'_>| {
        clock += 1000;
        tx.now = clock;
    };
    // Companies.
    let mut companies: Vec<(u64, String, String)> = Vec::new();
    for i in 0..spec.companies {
        let name = format!(
            "{} {} {}",
            pick(&mut rng, ADJ),
            pick(&mut rng, NOUN),
            pick(&mut rng, SUFFIX)
        );
        let slug: String = name
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let domain = format!("{slug}{i}.example.com");
        let (city, country) = CITY[rng.random_range(0..CITY.len())];
        let props = [
            p("name", name.clone()),
            p("domain", domain.clone()),
            p("website", format!("https://www.{domain}")),
            p("industry", pick(&mut rng, INDUSTRY)),
            p(
                "numberofemployees",
                rng.random_range(5..5000u32).to_string(),
            ),
            p(
                "annualrevenue",
                (rng.random_range(1..500u32) as u64 * 100_000).to_string(),
            ),
            p("city", city),
            p("country", country),
            p("lifecyclestage", "customer"),
        ];
        tick(tx);
        if let Some(id) = tx.create(COMPANIES, &props) {
            companies.push((id, name, domain));
        }
    }
    // Contacts, each with a primary company.
    let mut contacts_by_company: Vec<Vec<u64>> = vec![Vec::new(); companies.len()];
    for n in 1..=spec.contacts {
        let (first, last) = demo_person(spec.seed, n);
        let ci = if companies.is_empty() {
            None
        } else {
            Some(rng.random_range(0..companies.len()))
        };
        let mut props = vec![
            p("email", demo_email(spec.seed, n)),
            p("firstname", first),
            p("lastname", last),
            p(
                "phone",
                format!("+1 555 {:04}", rng.random_range(0..10_000u32)),
            ),
            p("jobtitle", pick(&mut rng, JOB)),
            p("lifecyclestage", pick(&mut rng, STAGE)),
        ];
        if let Some(i) = ci {
            props.push(p("company", companies[i].1.clone()));
        }
        tick(tx);
        let Some(id) = tx.create(CONTACTS, &props) else {
            continue;
        };
        if let Some(i) = ci {
            tx.associate(CONTACTS, id, COMPANIES, companies[i].0, &[279, 1]);
            contacts_by_company[i].push(id);
        }
    }
    // Deals, tied to a company and some of its contacts.
    for _ in 0..spec.deals {
        let ci = if companies.is_empty() {
            None
        } else {
            Some(rng.random_range(0..companies.len()))
        };
        let company_name = ci.map_or("Direct", |i| companies[i].1.as_str()).to_string();
        let close = BASE_MS + rng.random_range(0..365i64) * 86_400_000;
        let props = [
            p(
                "dealname",
                format!("{company_name} - {}", pick(&mut rng, PRODUCT)),
            ),
            p("amount", (rng.random_range(1..200u32) * 500).to_string()),
            p("dealstage", pick(&mut rng, DEAL_STAGE)),
            p("pipeline", "default"),
            p("closedate", close.to_string()),
            p(
                "dealtype",
                if rng.random_bool(0.5) {
                    "newbusiness"
                } else {
                    "existingbusiness"
                },
            ),
        ];
        tick(tx);
        let Some(id) = tx.create(DEALS, &props) else {
            continue;
        };
        if let Some(i) = ci {
            tx.associate(DEALS, id, COMPANIES, companies[i].0, &[341, 5]);
            let people = contacts_by_company[i].clone();
            let take = rng.random_range(1..=2usize).min(people.len());
            for c in people.iter().take(take) {
                tx.associate(DEALS, id, CONTACTS, *c, &[3]);
            }
        }
    }
    if spec.custom_objects {
        seed_projects(tx, &mut rng, &companies);
    }
}

fn seed_projects(tx: &mut Tx<'_>, rng: &mut ChaCha8Rng, companies: &[(u64, String, String)]) {
    let prop = |name: &str, label: &str, t: &str, f: &str| PropertyInput {
        name: Some(name.into()),
        label: Some(label.into()),
        type_: Some(t.into()),
        field_type: Some(f.into()),
        ..PropertyInput::default()
    };
    let input = SchemaInput {
        name: Some("projects".into()),
        labels: Some(serde_json::json!({"singular": "Project", "plural": "Projects"})),
        primary_display_property: Some("project_name".into()),
        required_properties: vec!["project_name".into()],
        searchable_properties: vec!["project_name".into()],
        secondary_display_properties: vec![],
        properties: vec![
            prop("project_name", "Project name", "string", "text"),
            prop("budget", "Budget", "number", "number"),
        ],
        associated_objects: vec!["COMPANY".into(), "CONTACT".into()],
    };
    let Ok(type_id) = create_in(tx, &input) else {
        return;
    };
    let assoc = tx
        .data
        .default_assoc(&type_id, COMPANIES)
        .map(|d| d.type_id);
    for (i, (cid, name, _)) in companies.iter().enumerate().take(5) {
        let props = [
            p("project_name", format!("{name} rollout {}", i + 1)),
            p("budget", (rng.random_range(1..100u32) * 1000).to_string()),
        ];
        tx.now += 1000;
        let Some(id) = tx.create(&type_id, &props) else {
            continue;
        };
        if let Some(a) = assoc {
            tx.associate(&type_id, id, COMPANIES, *cid, &[a]);
        }
    }
}
