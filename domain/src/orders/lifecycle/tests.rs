use super::*;
use OrderAction as A;
use OrderStatus as S;
use Performer as P;
use proptest::prelude::*;

fn state(status: OrderStatus) -> OrderState {
    OrderState { status, held_from: None, approval_required: true }
}

fn on_hold(from: OrderStatus) -> OrderState {
    OrderState { status: S::OnHold, held_from: Some(from), approval_required: true }
}

fn to(status: OrderStatus) -> Transition {
    Transition { to: status, held_from: None }
}

/// Every state the machine can be asked about, including `held_from` values it never produces itself.
fn every_state() -> Vec<OrderState> {
    let held_from = std::iter::once(None).chain(S::ALL.into_iter().map(Some));
    let mut states = Vec::new();
    for status in S::ALL {
        for held_from in held_from.clone() {
            for approval_required in [true, false] {
                states.push(OrderState { status, held_from, approval_required });
            }
        }
    }
    states
}

const DISPATCHERS: [Performer; 2] = [P::Dispatcher, P::Admin];

#[test]
fn assign_new_by_dispatcher_admin_or_system() {
    for performer in [P::Dispatcher, P::Admin, P::System] {
        assert_eq!(transition(&state(S::New), A::Assign, performer), Ok(to(S::Assigned)));
    }
}

#[test]
fn assigned_technician_accepts_or_declines() {
    assert_eq!(transition(&state(S::Assigned), A::Accept, P::AssignedTechnician), Ok(to(S::Accepted)));
    assert_eq!(transition(&state(S::Assigned), A::Decline, P::AssignedTechnician), Ok(to(S::New)));
}

#[test]
fn assigned_technician_departs_and_starts() {
    assert_eq!(transition(&state(S::Accepted), A::Depart, P::AssignedTechnician), Ok(to(S::EnRoute)));
    assert_eq!(transition(&state(S::Accepted), A::Start, P::AssignedTechnician), Ok(to(S::InProgress)));
    assert_eq!(transition(&state(S::EnRoute), A::Start, P::AssignedTechnician), Ok(to(S::InProgress)));
}

#[test]
fn hold_and_resume_by_assigned_technician_or_dispatcher() {
    for performer in [P::AssignedTechnician, P::Dispatcher, P::Admin] {
        assert_eq!(
            transition(&state(S::InProgress), A::Hold, performer),
            Ok(Transition { to: S::OnHold, held_from: Some(S::InProgress) })
        );
        assert_eq!(transition(&on_hold(S::InProgress), A::Resume, performer), Ok(to(S::InProgress)));
    }
}

#[test]
fn resume_returns_to_where_the_order_was_held() {
    assert_eq!(transition(&on_hold(S::EnRoute), A::Resume, P::Dispatcher), Ok(to(S::EnRoute)));
    let lost = OrderState { held_from: None, ..on_hold(S::InProgress) };
    assert_eq!(transition(&lost, A::Resume, P::Dispatcher), Ok(to(S::InProgress)));
}

#[test]
fn complete_waits_for_approval_only_when_required() {
    let approval = OrderState { approval_required: true, ..state(S::InProgress) };
    let direct = OrderState { approval_required: false, ..state(S::InProgress) };
    assert_eq!(transition(&approval, A::Complete, P::AssignedTechnician), Ok(to(S::Completed)));
    assert_eq!(transition(&direct, A::Complete, P::AssignedTechnician), Ok(to(S::Closed)));
}

#[test]
fn dispatcher_approves_or_rejects_completed() {
    for performer in DISPATCHERS {
        assert_eq!(transition(&state(S::Completed), A::Approve, performer), Ok(to(S::Closed)));
        assert_eq!(transition(&state(S::Completed), A::Reject, performer), Ok(to(S::InProgress)));
    }
}

#[test]
fn cancel_anything_not_final_by_dispatcher_admin_or_system() {
    for status in [S::New, S::Assigned, S::Accepted, S::EnRoute, S::InProgress, S::OnHold, S::Completed] {
        for performer in [P::Dispatcher, P::Admin, P::System] {
            let state = OrderState { held_from: (status == S::OnHold).then_some(S::InProgress), ..state(status) };
            assert_eq!(transition(&state, A::Cancel, performer), Ok(to(S::Cancelled)), "{status}");
        }
    }
}

#[test]
fn reassign_assigned_or_accepted_by_dispatcher_admin_or_system() {
    for status in [S::Assigned, S::Accepted] {
        for performer in [P::Dispatcher, P::Admin, P::System] {
            assert_eq!(transition(&state(status), A::Reassign, performer), Ok(to(S::Assigned)));
        }
    }
}

#[test]
fn wrong_performer_is_refused_with_what_they_may_do() {
    let error = transition(&state(S::InProgress), A::Complete, P::Dispatcher).unwrap_err();
    assert_eq!(error.current, S::InProgress);
    assert_eq!(error.reason, Refusal::NotForThisPerformer);
    assert_eq!(error.allowed, vec![A::Hold, A::Cancel]);
    assert_eq!(
        error.to_string(),
        "complete is not permitted to you for an order that is in_progress; allowed actions: hold, cancel"
    );

    let error = transition(&state(S::Completed), A::Approve, P::AssignedTechnician).unwrap_err();
    assert_eq!(error.reason, Refusal::NotForThisPerformer);
    assert_eq!(error.allowed, Vec::<OrderAction>::new());
}

#[test]
fn action_in_the_wrong_status_is_refused_naming_status_and_allowed_actions() {
    let error = transition(&state(S::New), A::Approve, P::Admin).unwrap_err();
    assert_eq!(error.reason, Refusal::NotInThisStatus);
    assert_eq!(error.allowed, vec![A::Assign, A::Cancel]);
    assert_eq!(error.to_string(), "approve is not possible for an order that is new; allowed actions: assign, cancel");
}

#[test]
fn final_orders_allow_nothing() {
    for status in [S::Closed, S::Cancelled] {
        for performer in Performer::ALL {
            assert_eq!(allowed_actions(&state(status), performer), Vec::<OrderAction>::new());
            let error = transition(&state(status), A::Cancel, performer).unwrap_err();
            assert_eq!(error.reason, Refusal::NotInThisStatus);
            assert!(error.to_string().ends_with("allowed actions: none"), "{error}");
        }
    }
}

#[test]
fn managers_and_other_technicians_can_do_nothing() {
    for state in every_state() {
        for performer in [P::Manager, P::OtherTechnician] {
            assert_eq!(allowed_actions(&state, performer), Vec::<OrderAction>::new(), "{state:?}");
        }
    }
}

#[test]
fn performer_of_role() {
    assert_eq!(Performer::of(None, false), P::System);
    assert_eq!(Performer::of(Some(Role::Technician), true), P::AssignedTechnician);
    assert_eq!(Performer::of(Some(Role::Technician), false), P::OtherTechnician);
    assert_eq!(Performer::of(Some(Role::Dispatcher), true), P::Dispatcher);
    assert_eq!(Performer::of(Some(Role::Admin), false), P::Admin);
    assert_eq!(Performer::of(Some(Role::Manager), true), P::Manager);
}

/// Exhaustive rather than sampled: there are only 1,080 (state, performer) pairs.
#[test]
fn allowed_actions_are_exactly_the_actions_that_succeed() {
    for state in every_state() {
        for performer in Performer::ALL {
            let allowed = allowed_actions(&state, performer);
            let succeeding: Vec<OrderAction> =
                A::ALL.into_iter().filter(|&action| transition(&state, action, performer).is_ok()).collect();
            assert_eq!(allowed, succeeding, "{state:?} {performer:?}");
            for action in A::ALL {
                if let Err(error) = transition(&state, action, performer) {
                    assert_eq!(error.allowed, allowed);
                    assert_eq!(error.current, state.status);
                }
            }
        }
    }
}

const TECH: &[Performer] = &[P::AssignedTechnician];
const OFFICE: &[Performer] = &[P::Dispatcher, P::Admin];
const OFFICE_OR_SYSTEM: &[Performer] = &[P::Dispatcher, P::Admin, P::System];
const TECH_OR_OFFICE: &[Performer] = &[P::AssignedTechnician, P::Dispatcher, P::Admin];

/// PRODUCT.md's lifecycle table, written out independently of the implementation:
/// (from, action, to, who). `complete` has two rows: to completed with approval, to closed without.
const SPEC: &[(OrderStatus, OrderAction, OrderStatus, &[Performer])] = &[
    (S::New, A::Assign, S::Assigned, OFFICE_OR_SYSTEM),
    (S::Assigned, A::Accept, S::Accepted, TECH),
    (S::Assigned, A::Decline, S::New, TECH),
    (S::Accepted, A::Depart, S::EnRoute, TECH),
    (S::Accepted, A::Start, S::InProgress, TECH),
    (S::EnRoute, A::Start, S::InProgress, TECH),
    (S::InProgress, A::Hold, S::OnHold, TECH_OR_OFFICE),
    (S::OnHold, A::Resume, S::InProgress, TECH_OR_OFFICE),
    (S::InProgress, A::Complete, S::Completed, TECH),
    (S::InProgress, A::Complete, S::Closed, TECH),
    (S::Completed, A::Approve, S::Closed, OFFICE),
    (S::Completed, A::Reject, S::InProgress, OFFICE),
    (S::New, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::Assigned, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::Accepted, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::EnRoute, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::InProgress, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::OnHold, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::Completed, A::Cancel, S::Cancelled, OFFICE_OR_SYSTEM),
    (S::Assigned, A::Reassign, S::Assigned, OFFICE_OR_SYSTEM),
    (S::Accepted, A::Reassign, S::Assigned, OFFICE_OR_SYSTEM),
];

/// The row a move follows, given whether the order's service type requires approval.
fn spec_row(
    from: OrderStatus,
    action: OrderAction,
    performer: Performer,
    approval_required: bool,
) -> Option<OrderStatus> {
    SPEC.iter()
        .filter(|(f, a, _, who)| *f == from && *a == action && who.contains(&performer))
        .map(|&(_, _, to, _)| to)
        .find(|&to| action != A::Complete || (to == S::Completed) == approval_required)
}

/// One step of a walk: mostly a move the machine accepts (so walks get deep into the lifecycle),
/// otherwise any action by anyone (so refusals are tried everywhere).
#[derive(Debug, Clone)]
enum Move {
    Accepted(prop::sample::Index),
    Any(OrderAction, Performer),
}

impl Move {
    fn pick(&self, order: &OrderState) -> (OrderAction, Performer) {
        let accepted: Vec<(OrderAction, Performer)> = P::ALL
            .into_iter()
            .flat_map(|performer| allowed_actions(order, performer).into_iter().map(move |action| (action, performer)))
            .collect();
        match self {
            Move::Accepted(index) if !accepted.is_empty() => accepted[index.index(accepted.len())],
            Move::Accepted(_) => (A::Cancel, P::Dispatcher),
            Move::Any(action, performer) => (*action, *performer),
        }
    }
}

fn walk() -> impl Strategy<Value = Vec<Move>> {
    let any_move = (prop::sample::select(A::ALL.to_vec()), prop::sample::select(P::ALL.to_vec()))
        .prop_map(|(action, performer)| Move::Any(action, performer));
    let accepted_move = any::<prop::sample::Index>().prop_map(Move::Accepted);
    prop::collection::vec(prop_oneof![2 => accepted_move, 1 => any_move], 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_walks_from_new_follow_the_table(approval_required in any::<bool>(), walk in walk()) {
        let mut order = OrderState { status: S::New, held_from: None, approval_required };
        for step in walk {
            let (action, performer) = step.pick(&order);
            let expected = spec_row(order.status, action, performer, approval_required);
            match transition(&order, action, performer) {
                Ok(moved) => {
                    prop_assert_eq!(Some(moved.to), expected, "{:?} {:?} {:?}", order, action, performer);
                    prop_assert_eq!(moved.held_from, (moved.to == S::OnHold).then_some(order.status));
                    order = OrderState { status: moved.to, held_from: moved.held_from, approval_required };
                }
                Err(error) => {
                    prop_assert_eq!(expected, None, "{:?} {:?} {:?}", order, action, performer);
                    prop_assert_eq!(error.current, order.status);
                }
            }
        }
    }

    #[test]
    fn nothing_moves_a_closed_or_cancelled_order(
        approval_required in any::<bool>(),
        before in walk(),
        after in walk(),
        cancel_by in prop::sample::select(OFFICE_OR_SYSTEM.to_vec()),
    ) {
        let mut order = OrderState { status: S::New, held_from: None, approval_required };
        for step in before {
            let (action, performer) = step.pick(&order);
            if let Ok(moved) = transition(&order, action, performer) {
                order = OrderState { status: moved.to, held_from: moved.held_from, approval_required };
            }
        }
        // Not every walk ends final; cancelling makes sure it does (a closed order stays closed).
        if let Ok(moved) = transition(&order, A::Cancel, cancel_by) {
            order = OrderState { status: moved.to, held_from: moved.held_from, approval_required };
        }
        prop_assert!(order.status.is_terminal());
        for step in after {
            let (action, performer) = step.pick(&order);
            prop_assert!(transition(&order, action, performer).is_err());
        }
        for performer in P::ALL {
            prop_assert!(allowed_actions(&order, performer).is_empty());
        }
    }
}
