-- A ticket moves to Brewing or Completed inside the workflow task that accepts the barista's
-- command (the cafe worker hands the move over), before that task is recorded. If the task is
-- lost with the Temporal server, the board is a step ahead of the order, and the barista who was
-- told the command failed may not send it again (a closed page, a REST client that gives up).
-- `unheard_since` marks such a move until someone has heard the order take it: the automatic
-- barista that sent the command clears it when it lets go of the ticket; otherwise the kitchen
-- asks the order's workflow after a grace period and sends the command again if it lags.
ALTER TABLE tickets ADD COLUMN unheard_since timestamptz;
CREATE INDEX tickets_unheard ON tickets (unheard_since) WHERE unheard_since IS NOT NULL;
