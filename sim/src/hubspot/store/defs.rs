//! Property definitions and property groups (`docs/hubspot-api.md` §5): their shapes, the
//! valid `type`/`fieldType` pairs, and HubSpot's default properties for contacts, companies,
//! deals and custom objects.

use serde_json::{Value, json};

use super::{COMPANIES, CONTACTS, DEALS, iso};

/// One option of an enumeration property.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionDef {
    /// Shown label.
    pub label: String,
    /// Stored value (what API writes must match).
    pub value: String,
    /// Order in the UI.
    pub display_order: i64,
    /// Hidden in forms.
    pub hidden: bool,
    /// Optional description.
    pub description: Option<String>,
}

impl OptionDef {
    /// Renders `{label, value, displayOrder, hidden, description?}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"label": self.label, "value": self.value,
            "displayOrder": self.display_order, "hidden": self.hidden});
        if let (Some(d), Some(o)) = (&self.description, v.as_object_mut()) {
            o.insert("description".into(), json!(d));
        }
        v
    }
}

/// One property definition of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyDef {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// `string`, `number`, `bool`, `enumeration`, `date`, `datetime`, `phone_number`.
    pub type_: String,
    /// `text`, `number`, `select`, … (must pair with `type_`).
    pub field_type: String,
    /// Group it belongs to.
    pub group_name: String,
    /// Description.
    pub description: String,
    /// Options (empty for non-enumerations).
    pub options: Vec<OptionDef>,
    /// Display order (-1 = last).
    pub display_order: i64,
    /// Unique values (immutable after creation).
    pub has_unique_value: bool,
    /// Hidden in the UI.
    pub hidden: bool,
    /// Usable in forms.
    pub form_field: bool,
    /// Calculated property.
    pub calculated: bool,
    /// Defined by HubSpot.
    pub hubspot_defined: bool,
    /// Value cannot be written.
    pub read_only_value: bool,
    /// Definition cannot be changed.
    pub read_only_definition: bool,
    /// Can be archived.
    pub archivable: bool,
    /// Archived.
    pub archived: bool,
    /// When archived (epoch ms).
    pub archived_ms: Option<i64>,
    /// Created (epoch ms).
    pub created_ms: i64,
    /// Updated (epoch ms).
    pub updated_ms: i64,
    /// Formula of a calculation property.
    pub calculation_formula: Option<String>,
    /// `non_sensitive`, `sensitive`, `highly_sensitive`.
    pub data_sensitivity: Option<String>,
}

impl PropertyDef {
    /// A plain custom property.
    pub fn new(name: &str, label: &str, type_: &str, field_type: &str, group: &str) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            type_: type_.into(),
            field_type: field_type.into(),
            group_name: group.into(),
            description: String::new(),
            options: Vec::new(),
            display_order: -1,
            has_unique_value: false,
            hidden: false,
            form_field: true,
            calculated: false,
            hubspot_defined: false,
            read_only_value: false,
            read_only_definition: false,
            archivable: true,
            archived: false,
            archived_ms: None,
            created_ms: 0,
            updated_ms: 0,
            calculation_formula: None,
            data_sensitivity: None,
        }
    }

    fn hs(mut self) -> Self {
        self.hubspot_defined = true;
        self.read_only_definition = true;
        self.archivable = false;
        self
    }

    fn ro(mut self) -> Self {
        self.read_only_value = true;
        self.form_field = false;
        self
    }

    fn opts(mut self, values: &[(&str, &str)]) -> Self {
        self.options = values
            .iter()
            .enumerate()
            .map(|(i, (value, label))| OptionDef {
                label: (*label).into(),
                value: (*value).into(),
                display_order: i as i64,
                hidden: false,
                description: None,
            })
            .collect();
        self
    }

    /// Renders the property as HubSpot's `Property` schema.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "label": self.label,
            "type": self.type_,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": self.options.iter().map(OptionDef::to_json).collect::<Vec<_>>(),
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": false,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": self.archivable,
                "readOnlyDefinition": self.read_only_definition,
                "readOnlyValue": self.read_only_value,
            },
            "formField": self.form_field,
            "dataSensitivity": self.data_sensitivity.clone().unwrap_or_else(|| "non_sensitive".into()),
            "createdAt": iso(self.created_ms),
            "updatedAt": iso(self.updated_ms),
            "archived": self.archived,
        });
        if let Some(o) = v.as_object_mut() {
            if let Some(ms) = self.archived_ms {
                o.insert("archivedAt".into(), json!(iso(ms)));
            }
            if let Some(f) = &self.calculation_formula {
                o.insert("calculationFormula".into(), json!(f));
            }
        }
        v
    }

    /// Whether values are compared as numbers (number, date, datetime).
    pub fn is_numeric(&self) -> bool {
        matches!(self.type_.as_str(), "number" | "date" | "datetime")
    }
}

/// A property group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Display order.
    pub display_order: i64,
    /// Archived.
    pub archived: bool,
}

impl Group {
    /// Renders `{name, label, displayOrder, archived}`.
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "label": self.label, "displayOrder": self.display_order,
            "archived": self.archived})
    }
}

/// Whether `type_`/`field_type` is one of the pairs v3 accepts (§5 table).
pub fn valid_pair(type_: &str, field_type: &str) -> bool {
    let allowed: &[&str] = match type_ {
        "string" => &[
            "text",
            "textarea",
            "html",
            "phonenumber",
            "file",
            "calculation_equation",
        ],
        "number" => &["number", "calculation_equation"],
        "bool" => &["booleancheckbox", "calculation_equation"],
        "enumeration" => &[
            "booleancheckbox",
            "checkbox",
            "radio",
            "select",
            "calculation_equation",
        ],
        "date" | "datetime" => &["date"],
        "phone_number" => &["phonenumber"],
        _ => &[],
    };
    allowed.contains(&field_type)
}

/// Name of the "created" timestamp property of a type.
pub fn created_prop(type_id: &str) -> &'static str {
    if type_id.starts_with("2-") {
        "hs_createdate"
    } else {
        "createdate"
    }
}

/// Name of the "last modified" timestamp property of a type.
pub fn modified_prop(type_id: &str) -> &'static str {
    if type_id == CONTACTS {
        "lastmodifieddate"
    } else {
        "hs_lastmodifieddate"
    }
}

/// Properties returned when a read names none (and the base set search returns).
pub fn default_read_props(type_id: &str) -> Vec<&'static str> {
    match type_id {
        CONTACTS => {
            vec![
                "firstname",
                "lastname",
                "email",
                "lastmodifieddate",
                "hs_object_id",
                "createdate",
            ]
        }
        COMPANIES => vec![
            "name",
            "domain",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
        ],
        DEALS => vec![
            "dealname",
            "amount",
            "closedate",
            "pipeline",
            "dealstage",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
        ],
        _ => vec!["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    }
}

/// Fields a search `query` looks at (§3.2).
pub fn query_fields(type_id: &str) -> Vec<&'static str> {
    match type_id {
        CONTACTS => vec![
            "firstname",
            "lastname",
            "email",
            "phone",
            "mobilephone",
            "company",
            "website",
        ],
        COMPANIES => vec!["name", "domain", "website", "phone"],
        DEALS => vec![
            "dealname",
            "pipeline",
            "dealstage",
            "description",
            "dealtype",
        ],
        _ => vec![],
    }
}

/// The group HubSpot puts default properties of a type in.
pub fn info_group(type_id: &str) -> &'static str {
    match type_id {
        CONTACTS => "contactinformation",
        COMPANIES => "companyinformation",
        DEALS => "dealinformation",
        _ => "custom_information",
    }
}

/// Default property groups of a type.
pub fn default_groups(type_id: &str) -> Vec<Group> {
    let (info, label) = match type_id {
        CONTACTS => ("contactinformation", "Contact information"),
        COMPANIES => ("companyinformation", "Company information"),
        DEALS => ("dealinformation", "Deal information"),
        _ => ("custom_information", "Custom information"),
    };
    vec![
        Group {
            name: info.into(),
            label: label.into(),
            display_order: 0,
            archived: false,
        },
        Group {
            name: "analyticsinformation".into(),
            label: "Analytics information".into(),
            display_order: 1,
            archived: false,
        },
    ]
}

const LIFECYCLE: &[(&str, &str)] = &[
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];

/// HubSpot's default properties of a built-in type, or the base set of a custom object.
pub fn default_properties(type_id: &str, now_ms: i64) -> Vec<PropertyDef> {
    let g = info_group(type_id);
    let p = |n: &str, l: &str, t: &str, f: &str| PropertyDef::new(n, l, t, f, g).hs();
    let mut v = vec![
        p("hs_object_id", "Record ID", "number", "number").ro(),
        p(
            modified_prop(type_id),
            "Last Modified Date",
            "datetime",
            "date",
        )
        .ro(),
        p(created_prop(type_id), "Create Date", "datetime", "date").ro(),
    ];
    match type_id {
        CONTACTS => v.extend([
            p("email", "Email", "string", "text"),
            p("firstname", "First Name", "string", "text"),
            p("lastname", "Last Name", "string", "text"),
            p("phone", "Phone Number", "string", "phonenumber"),
            p(
                "mobilephone",
                "Mobile Phone Number",
                "string",
                "phonenumber",
            ),
            p("company", "Company Name", "string", "text"),
            p("website", "Website URL", "string", "text"),
            p("jobtitle", "Job Title", "string", "text"),
            p("address", "Street Address", "string", "text"),
            p("city", "City", "string", "text"),
            p("state", "State/Region", "string", "text"),
            p("zip", "Postal Code", "string", "text"),
            p("country", "Country/Region", "string", "text"),
            p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio").opts(LIFECYCLE),
            p("hs_lead_status", "Lead Status", "enumeration", "select").opts(&[
                ("NEW", "New"),
                ("OPEN", "Open"),
                ("IN_PROGRESS", "In Progress"),
                ("OPEN_DEAL", "Open Deal"),
                ("UNQUALIFIED", "Unqualified"),
                ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
                ("CONNECTED", "Connected"),
                ("BAD_TIMING", "Bad Timing"),
            ]),
            p(
                "hs_email_optout",
                "Unsubscribed from all email",
                "bool",
                "booleancheckbox",
            )
            .opts(&[("true", "Yes"), ("false", "No")]),
            p(
                "hs_additional_emails",
                "Additional email addresses",
                "enumeration",
                "checkbox",
            )
            .ro(),
            p(
                "hs_merged_object_ids",
                "Merged Contact IDs",
                "enumeration",
                "checkbox",
            )
            .ro(),
            p(
                "associatedcompanyid",
                "Primary Associated Company ID",
                "number",
                "number",
            )
            .ro(),
        ]),
        COMPANIES => v.extend([
            p("name", "Company name", "string", "text"),
            p("domain", "Company Domain Name", "string", "text"),
            p("website", "Website URL", "string", "text"),
            p("phone", "Phone Number", "string", "phonenumber"),
            p("industry", "Industry", "enumeration", "select").opts(&[
                ("ACCOUNTING", "Accounting"),
                ("COMPUTER_SOFTWARE", "Computer Software"),
                ("FINANCIAL_SERVICES", "Financial Services"),
                (
                    "INFORMATION_TECHNOLOGY_AND_SERVICES",
                    "Information Technology and Services",
                ),
                ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"),
                ("RETAIL", "Retail"),
                ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
                ("EDUCATION_MANAGEMENT", "Education Management"),
            ]),
            p(
                "numberofemployees",
                "Number of Employees",
                "number",
                "number",
            ),
            p("annualrevenue", "Annual Revenue", "number", "number"),
            p("city", "City", "string", "text"),
            p("state", "State/Region", "string", "text"),
            p("country", "Country/Region", "string", "text"),
            p("description", "Description", "string", "textarea"),
            p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio").opts(LIFECYCLE),
            p(
                "hs_merged_object_ids",
                "Merged Company IDs",
                "enumeration",
                "checkbox",
            )
            .ro(),
        ]),
        DEALS => v.extend([
            p("dealname", "Deal Name", "string", "text"),
            p("amount", "Amount", "number", "number"),
            p("dealstage", "Deal Stage", "enumeration", "radio").opts(&[
                ("appointmentscheduled", "Appointment Scheduled"),
                ("qualifiedtobuy", "Qualified To Buy"),
                ("presentationscheduled", "Presentation Scheduled"),
                ("decisionmakerboughtin", "Decision Maker Bought-In"),
                ("contractsent", "Contract Sent"),
                ("closedwon", "Closed Won"),
                ("closedlost", "Closed Lost"),
            ]),
            p("pipeline", "Pipeline", "enumeration", "select")
                .opts(&[("default", "Sales Pipeline")]),
            p("closedate", "Close Date", "datetime", "date"),
            p("dealtype", "Deal Type", "enumeration", "radio").opts(&[
                ("newbusiness", "New Business"),
                ("existingbusiness", "Existing Business"),
            ]),
            p("description", "Deal Description", "string", "textarea"),
            p(
                "hs_merged_object_ids",
                "Merged Deal IDs",
                "enumeration",
                "checkbox",
            )
            .ro(),
        ]),
        _ => {}
    }
    for (i, d) in v.iter_mut().enumerate() {
        d.display_order = i as i64;
        d.created_ms = now_ms;
        d.updated_ms = now_ms;
    }
    v
}
