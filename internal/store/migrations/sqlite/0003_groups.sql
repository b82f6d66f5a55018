-- Groups: the tree, its closure table and memberships with their source.
--
-- The tree is stored twice on purpose: groups.parent_id is the truth, group_paths is its
-- closure (every ancestor/descendant pair with its distance, including each group with
-- itself at depth 0). The closure answers "the chain above this group" (propagation, scoped
-- administration) and "the sub-tree below it" (move, delete, sub-group invitations) with one
-- indexed lookup each, on both databases, without recursive queries or LIKE on paths.
CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    parent_id   BIGINT  REFERENCES groups (id),                 -- NULL for a root
    name        TEXT    NOT NULL,
    idnumber    TEXT    NOT NULL DEFAULT '',                    -- optional external id; '' for none
    description TEXT    NOT NULL DEFAULT '',
    visibility  TEXT    NOT NULL DEFAULT 'private',             -- public | private
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
-- Names are unique among siblings; roots share the parent 0.
CREATE UNIQUE INDEX groups_parent_name ON groups (COALESCE(parent_id, 0), name);
CREATE UNIQUE INDEX groups_idnumber ON groups (idnumber) WHERE idnumber <> '';
CREATE INDEX groups_parent ON groups (parent_id);

CREATE TABLE group_paths (
    ancestor_id   BIGINT  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    descendant_id BIGINT  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    depth         INTEGER NOT NULL,                             -- 0: the group itself
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX group_paths_descendant ON group_paths (descendant_id, depth);

-- One row per (group, user, role, source). source_kind is manual | propagated | import |
-- scim | sync; source_ref is the origin group of a propagated row, the batch of an import,
-- 0 otherwise.
--
-- Indexes, chosen for the two hot paths: the key leads with group_id (a group's members,
-- the targets of a recomputation); user_id finds one person's memberships (their roles for
-- authz, the rows one learner propagated). The source index skips propagated rows, which are
-- most of the table and change in bulk when a sub-tree moves: queries about them go through
-- group_id or user_id. Queries by another source (undo an import, a SCIM or sync run) must say
-- "source_kind <> 'propagated'" for SQLite to use it, e.g.
--   WHERE source_kind = 'import' AND source_ref = $1 AND source_kind <> 'propagated'.
CREATE TABLE group_members (
    group_id    BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,                                -- learner | trainer | group_admin | user_admin
    source_kind TEXT   NOT NULL,
    source_ref  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id, role, source_kind, source_ref)
);
CREATE INDEX group_members_user ON group_members (user_id);
CREATE INDEX group_members_source ON group_members (source_kind, source_ref, user_id) WHERE source_kind <> 'propagated';
