//! The saga's and the projector's bookkeeping, beside the order itself: how far the view has got,
//! which change waits for its task to be recorded, the board moves still to make, the search
//! attribute as last set, and whether the saga is done.

use std::collections::VecDeque;

use domain::OrderStatus;

#[derive(Debug)]
pub(super) struct Progress {
    /// Grows with every change the view should see; `projected` is how far the view has got.
    revision: u64,
    projected: u64,
    /// Set when an update changes the order, to the history's length in the task that accepted
    /// it. That task is not recorded until it completes (it may yet be lost with its worker or the
    /// server), so the change is not projected until the saga hears from a step in a later task
    /// ([`Progress::heard_from_a_step`]) or the projector's own timer brings one.
    unrecorded_command: Option<u32>,
    /// Kitchen board moves decided by the barista's commands, not yet made by the kitchen.
    pub(super) board_moves: VecDeque<OrderStatus>,
    /// The `OrderStatus` search attribute as last set.
    pub(super) published: OrderStatus,
    /// The saga has nothing left to do; the projector sends the last state and ends.
    pub(super) saga_done: bool,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            revision: 1,
            projected: 0,
            unrecorded_command: None,
            board_moves: VecDeque::new(),
            published: OrderStatus::Ordered,
            saga_done: false,
        }
    }
}

impl Progress {
    /// The order changed: the view should see it.
    pub(super) fn changed(&mut self) {
        self.revision += 1;
    }

    /// An update changed the order in the task at `history_length`, not recorded yet.
    pub(super) fn command_accepted(&mut self, history_length: u32) {
        self.unrecorded_command = Some(history_length);
    }

    /// The saga heard from one of its steps in the task at `history_length`: an update accepted
    /// by an earlier task is recorded now (that task completed, or this one would not exist).
    pub(super) fn heard_from_a_step(&mut self, history_length: u32) {
        if self.unrecorded_command.is_some_and(|at| at < history_length) {
            self.unrecorded_command = None;
        }
    }

    /// A later task exists (the projector's timer fired): every accepted update is recorded.
    pub(super) fn all_recorded(&mut self) {
        self.unrecorded_command = None;
    }

    pub(super) fn has_unrecorded_command(&self) -> bool {
        self.unrecorded_command.is_some()
    }

    /// The view is behind a change it may see now.
    pub(super) fn view_behind(&self) -> bool {
        self.projected < self.revision && self.unrecorded_command.is_none()
    }

    /// Nothing left to project: the saga is done and the view has its last state.
    pub(super) fn finished(&self) -> bool {
        self.saga_done && self.projected >= self.revision
    }

    pub(super) fn revision(&self) -> u64 {
        self.revision
    }

    /// The view has everything up to `revision`.
    pub(super) fn projected(&mut self, revision: u64) {
        self.projected = revision;
    }
}
