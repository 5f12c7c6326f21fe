use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered (v7) id, so keyset paging by id follows creation order.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organization (tenant).
    OrgId
);
id_type!(
    /// A user of any role.
    UserId
);
id_type!(
    /// A login session: one chain of refresh tokens.
    SessionId
);
id_type!(
    /// A customer: a person or a company the organization works for.
    CustomerId
);
id_type!(
    /// A site of a customer: an address where work is done.
    SiteId
);
id_type!(
    /// A service type: a workflow template of the organization.
    ServiceTypeId
);
id_type!(
    /// A work order.
    OrderId
);
id_type!(
    /// A comment on a work order.
    CommentId
);
id_type!(
    /// A file attached to a work order.
    AttachmentId
);
id_type!(
    /// A period a technician does not work: vacation, sick leave, other.
    TimeOffId
);
id_type!(
    /// A day nobody in the organization works.
    HolidayId
);
id_type!(
    /// A job offered to one technician.
    OfferId
);
id_type!(
    /// A recurring plan of a maintenance contract.
    RecurringPlanId
);
id_type!(
    /// A long operation: an export, an import or a broadcast run as a background job.
    OperationId
);
id_type!(
    /// A notification in a user's in-app inbox.
    NotificationId
);
id_type!(
    /// An organization's outgoing webhook endpoint.
    WebhookEndpointId
);
id_type!(
    /// A browser a user subscribed to web push.
    PushSubscriptionId
);
