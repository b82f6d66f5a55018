-- The triggers do not change here: PostgreSQL's course_sync triggers (0008, 0029) run once per
-- statement, over transition tables. 0032 makes SQLite's row triggers ask first whether any
-- synced method is concerned (see its file).

-- audit_events_at (0001): no query reads the events by time (the audit log pages by id, and
-- filters by actor, target and action, which have their own indexes); each event written
-- paid for it, two a person in an import.
DROP INDEX audit_events_at;

-- users_billing (0006): the month's billing report (internal/billing) selects the accounts
-- active in the month OR holding a billing period in it; neither database can answer that OR
-- (an EXISTS on billing_periods) through this index, and both read users in id order
-- (EXPLAIN QUERY PLAN / EXPLAIN: a scan of users). Every account written paid for it.
DROP INDEX users_billing;
