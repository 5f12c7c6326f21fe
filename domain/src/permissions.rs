use crate::Role;

/// What a role may do, in one table. Services ask this; the frontend uses it to hide what would be
/// refused anyway. Which *objects* an actor may touch (own organization, own orders) is the
/// services' business, not this table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadOrganization,
    ManageOrganization,
    ReadUsers,
    ManageUsers,
    ReadTechnicians,
    ManageTechnicians,
    ReadCustomers,
    ManageCustomers,
    ReadServiceTypes,
    ManageServiceTypes,
    /// Technicians read only the orders assigned to them; the service enforces that.
    ReadOrders,
    /// Create orders and edit their fields.
    ManageOrders,
    /// Technicians read only their own lane of the calendar; the service enforces that.
    ReadSchedule,
    /// Bookings, time off, holidays, offers and recurring plans.
    ManageSchedule,
    /// Outgoing webhook endpoints: where the organization's order events are sent, and their secrets.
    ManageWebhooks,
    /// The organization-wide order counters.
    ReadDashboard,
    /// Export orders to a file (a long operation). Technicians cannot start operations.
    ExportOrders,
    /// Send a text to technicians (a long operation).
    BroadcastToTechnicians,
    /// See every long operation of the organization, not only one's own.
    ReadAllOperations,
}

impl Role {
    pub fn permits(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            // Technicians need checklists and photo rules of the jobs they do.
            ReadOrganization | ReadServiceTypes | ReadOrders | ReadSchedule => true,
            ManageOrganization | ManageUsers | ManageTechnicians | ManageServiceTypes | ManageWebhooks => {
                self == Role::Admin
            }
            ReadUsers | ReadTechnicians => matches!(self, Role::Admin | Role::Dispatcher),
            // Technicians see a customer only through an order assigned to them.
            ReadCustomers | ReadDashboard | ExportOrders => {
                matches!(self, Role::Admin | Role::Dispatcher | Role::Manager)
            }
            ManageCustomers | ManageOrders | ManageSchedule | BroadcastToTechnicians => {
                matches!(self, Role::Admin | Role::Dispatcher)
            }
            ReadAllOperations => self == Role::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_and_dispatchers_read_people() {
        for role in Role::ALL {
            assert_eq!(role.permits(Permission::ManageUsers), role == Role::Admin);
            assert_eq!(role.permits(Permission::ManageTechnicians), role == Role::Admin);
            assert_eq!(role.permits(Permission::ReadTechnicians), matches!(role, Role::Admin | Role::Dispatcher));
            assert!(role.permits(Permission::ReadOrganization));
            assert!(role.permits(Permission::ReadServiceTypes));
            assert_eq!(role.permits(Permission::ManageServiceTypes), role == Role::Admin);
            assert_eq!(role.permits(Permission::ReadCustomers), role != Role::Technician);
            assert_eq!(role.permits(Permission::ManageCustomers), matches!(role, Role::Admin | Role::Dispatcher));
            assert_eq!(role.permits(Permission::ManageSchedule), matches!(role, Role::Admin | Role::Dispatcher));
            assert_eq!(role.permits(Permission::ManageWebhooks), role == Role::Admin);
            assert_eq!(role.permits(Permission::ReadDashboard), role != Role::Technician);
            assert_eq!(role.permits(Permission::ExportOrders), role != Role::Technician);
            let office = matches!(role, Role::Admin | Role::Dispatcher);
            assert_eq!(role.permits(Permission::BroadcastToTechnicians), office);
            assert_eq!(role.permits(Permission::ReadAllOperations), role == Role::Admin);
        }
    }
}
