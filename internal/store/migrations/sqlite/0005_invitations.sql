-- Invitations: an address, what accepting it grants, a token hash and a state.
--
-- status is pending | accepted | cancelled | expired. A pending invitation whose expires_at has
-- passed reads as expired; it is marked so when the address is invited again. At most one
-- invitation per address is pending at a time (invitations_one_pending): that index is what
-- makes fifty concurrent invitations of one address create one.
--
-- The group grants are rows of invitation_groups rather than JSON: the pending list filters by
-- group and by sub-tree, scoped administrators see only their groups, and deleting a group must
-- drop its grants; all three want an index and a foreign key. course_id and due_at are for
-- course sessions (the courses feature applies them when an invitation is accepted).
CREATE TABLE invitations (
    id               INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL,                   -- as typed (first spelling)
    email_norm       TEXT    NOT NULL,                   -- lower case, for lookups
    name             TEXT    NOT NULL DEFAULT '',        -- display name typed with the address
    token_hash       TEXT    NOT NULL UNIQUE,            -- SHA-256 (hex) of the link's token
    status           TEXT    NOT NULL DEFAULT 'pending', -- pending | accepted | cancelled | expired
    course_id        BIGINT,                             -- a course session to enrol in
    language         TEXT    NOT NULL DEFAULT '',
    delete_at        BIGINT,                             -- deletion date of the account it creates
    custom_fields    TEXT    NOT NULL DEFAULT '{}',      -- JSON object, copied to the account
    invited_by       BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at       BIGINT  NOT NULL,
    sent_count       INTEGER NOT NULL DEFAULT 0,
    last_sent_at     BIGINT,
    expires_at       BIGINT,                             -- NULL: valid until cancelled
    due_at           BIGINT,                             -- not sent before (course not yet open)
    accepted_user_id BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    accepted_at      BIGINT,
    cancelled_at     BIGINT
);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (email_norm) WHERE status = 'pending';
CREATE INDEX invitations_email ON invitations (email_norm);
CREATE INDEX invitations_status ON invitations (status, id);

CREATE TABLE invitation_groups (
    invitation_id BIGINT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    group_id      BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role          TEXT   NOT NULL,                       -- learner | trainer | group_admin | user_admin
    PRIMARY KEY (invitation_id, group_id, role)
);
CREATE INDEX invitation_groups_group ON invitation_groups (group_id, invitation_id);
