-- The course_sync triggers of 0008 fire on the same changes in both databases. SQLite's
-- watch columns: a group sync follows group_members.group_id, a meta link the status and
-- role of the linked course's enrolments. PostgreSQL's, over transition tables, cannot name
-- columns, so they fired on every UPDATE: a change of the anchors of memberships, or of the
-- dates of enrolments (a nightly sync, an import's new dates), queued group syncs and meta
-- links that had nothing to follow. Their functions now keep only the rows whose watched
-- columns changed, and the update triggers still run once per statement.

-- group_members has no id: a row whose group_id changed is a key (group, user, role, source)
-- that the old rows have and the new ones have not, and the other way round; a change of
-- anything else leaves the keys as they were.
CREATE OR REPLACE FUNCTION course_sync_queue_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT m.id FROM (
        (SELECT group_id, user_id, role, source_kind, source_ref FROM old_rows
         EXCEPT SELECT group_id, user_id, role, source_kind, source_ref FROM new_rows)
        UNION
        (SELECT group_id, user_id, role, source_kind, source_ref FROM new_rows
         EXCEPT SELECT group_id, user_id, role, source_kind, source_ref FROM old_rows)) c
    JOIN group_paths p ON p.descendant_id = c.group_id
    JOIN course_methods m ON m.group_id = p.ancestor_id
    WHERE m.type = 'group_sync' AND (p.depth = 0 OR m.subgroups)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION course_sync_queue_meta_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT m.id FROM (SELECT DISTINCT n.course_id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.status IS DISTINCT FROM o.status OR n.role IS DISTINCT FROM o.role) c
    JOIN course_methods m ON m.linked_course_id = c.course_id
    WHERE m.type = 'meta'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
DROP TRIGGER course_sync_meta_update ON course_enrolments;
CREATE TRIGGER course_sync_meta_update AFTER UPDATE ON course_enrolments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_sync_queue_meta_changed();
