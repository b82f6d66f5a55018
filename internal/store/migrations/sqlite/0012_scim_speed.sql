-- SCIM list speed. Substring filters (co, ew) on the name columns cannot seek an index: they
-- read every row. Each name index now also holds the scope and the deletion mark and the
-- account id, so that SQLite reads the narrow index instead of the table when the filter
-- names one of these columns (EXPLAIN QUERY PLAN: SCAN s USING COVERING INDEX), and equality
-- and prefix (sw) filters keep their index range scans. title, a common equality filter
-- (title eq "…"), gets one too.
DROP INDEX scim_users_given_name;
DROP INDEX scim_users_family_name;
DROP INDEX scim_users_display_name;
CREATE INDEX scim_users_given_name ON scim_users (given_name, scope_group_id, deleted_at, user_id);
CREATE INDEX scim_users_family_name ON scim_users (family_name, scope_group_id, deleted_at, user_id);
CREATE INDEX scim_users_display_name ON scim_users (display_name, scope_group_id, deleted_at, user_id);
CREATE INDEX scim_users_title ON scim_users (title, scope_group_id, deleted_at, user_id);
