//! Enums for the string-valued columns (status, direction, mode, outcome, …).
//!
//! Each is a sea-orm [`ActiveEnum`](sea_orm::ActiveEnum) stored as a plain
//! string column (no database enum type, so it is portable and new values
//! need no schema change). The string form is the same in the database, in
//! serde and in [`Display`](std::fmt::Display)/[`FromStr`](std::str::FromStr).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} value {value:?}")]
pub struct UnknownEnumValue {
    /// Name of the enum type.
    pub kind: &'static str,
    /// The rejected string.
    pub value: String,
}

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The string stored in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownEnumValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($value => Ok(Self::$variant),)+
                    _ => Err(UnknownEnumValue {
                        kind: stringify!($name),
                        value: s.to_owned(),
                    }),
                }
            }
        }
    };
}

string_enum! {
    /// `integrations.status`: whether the HubSpot/Userflow pairing works.
    pub enum IntegrationStatus {
        /// Created, not yet authorized on both sides.
        Pending = "pending",
        /// Both sides authorized; syncing.
        Connected = "connected",
        /// The HubSpot refresh token (or the Userflow key) stopped working.
        AuthorizationExpired = "authorization_expired",
        /// Disconnected by a user; credentials are cleared.
        Disconnected = "disconnected",
    }
}

string_enum! {
    /// `object_mappings.userflow_object_type`.
    pub enum UserflowObjectType {
        /// A Userflow user.
        User = "user",
        /// A Userflow group (company).
        Group = "group",
    }
}

string_enum! {
    /// `object_mappings.match_userflow_attribute`: the Userflow side of the
    /// key that pairs records.
    pub enum UserflowMatchAttribute {
        /// Match on the Userflow user's email.
        Email = "email",
        /// Match on the Userflow user/group id.
        Id = "id",
    }
}

string_enum! {
    /// Direction of a sync (`field_mappings`, `sync_state`, `sync_log`).
    pub enum SyncDirection {
        /// HubSpot is the source, Userflow the target.
        HubspotToUserflow = "hubspot_to_userflow",
        /// Userflow is the source, HubSpot the target.
        UserflowToHubspot = "userflow_to_hubspot",
    }
}

string_enum! {
    /// `field_mappings.data_type`: how a value is converted between systems.
    pub enum FieldDataType {
        /// Text.
        String = "string",
        /// A number.
        Number = "number",
        /// `true`/`false`.
        Boolean = "boolean",
        /// A point in time.
        Datetime = "datetime",
        /// A calendar date.
        Date = "date",
    }
}

string_enum! {
    /// `event_streams.mode`: which Userflow events go to HubSpot.
    pub enum EventStreamMode {
        /// No events.
        Off = "off",
        /// Every event.
        All = "all",
        /// Only the events in `event_names`.
        Selected = "selected",
    }
}

string_enum! {
    /// `sync_log.outcome`.
    pub enum SyncOutcome {
        /// Changes were written to the target.
        Synced = "synced",
        /// Nothing was written; `reason` says why (see [`crate::skip_reason`]).
        Skipped = "skipped",
        /// Writing failed; `error_category`/`error_message` say why.
        Failed = "failed",
    }
}

string_enum! {
    /// `full_sync_runs.trigger`: who started a full sync.
    pub enum FullSyncTrigger {
        /// Started by a user.
        Manual = "manual",
        /// Started by the scheduler.
        Scheduled = "scheduled",
    }
}

string_enum! {
    /// `full_sync_runs.status` and `full_sync_shards.status`.
    pub enum FullSyncStatus {
        /// Created, not started.
        Pending = "pending",
        /// In progress.
        Running = "running",
        /// Finished (possibly with failed records, see `failed`).
        Completed = "completed",
        /// Stopped by an error (see `error`).
        Failed = "failed",
        /// Stopped by a user.
        Cancelled = "cancelled",
    }
}

impl FullSyncStatus {
    /// Whether the run or shard has stopped for good.
    pub const fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};

    fn check<E>()
    where
        E: ActiveEnum<Value = String>
            + Iterable
            + Copy
            + std::str::FromStr<Err = UnknownEnumValue>
            + std::fmt::Display
            + std::fmt::Debug
            + PartialEq
            + Serialize
            + for<'de> Deserialize<'de>,
    {
        for v in E::iter() {
            let s = v.to_value();
            assert_eq!(v.to_string(), s);
            assert_eq!(s.parse::<E>(), Ok(v));
            assert_eq!(E::try_from_value(&s).ok(), Some(v));
            let json = serde_json::to_value(v).expect("serialize");
            assert_eq!(json, serde_json::Value::String(s.clone()));
            let back: E = serde_json::from_value(json).expect("deserialize");
            assert_eq!(back, v);
        }
        let err = "no such value".parse::<E>().expect_err("must be rejected");
        assert_eq!(err.value, "no such value");
    }

    #[test]
    fn string_forms_agree() {
        check::<IntegrationStatus>();
        check::<UserflowObjectType>();
        check::<UserflowMatchAttribute>();
        check::<SyncDirection>();
        check::<FieldDataType>();
        check::<EventStreamMode>();
        check::<SyncOutcome>();
        check::<FullSyncTrigger>();
        check::<FullSyncStatus>();
    }

    #[test]
    fn all_lists_every_value() {
        assert_eq!(
            IntegrationStatus::ALL.len(),
            IntegrationStatus::iter().count()
        );
        assert_eq!(FullSyncStatus::ALL.len(), FullSyncStatus::iter().count());
        assert_eq!(
            SyncDirection::HubspotToUserflow.as_str(),
            "hubspot_to_userflow"
        );
        assert!(FullSyncStatus::Cancelled.is_finished());
        assert!(!FullSyncStatus::Running.is_finished());
    }
}
