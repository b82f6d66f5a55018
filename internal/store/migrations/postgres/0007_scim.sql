-- SCIM 2.0: what identity providers push that Roster's own tables do not hold.
--
-- scim_users: one row per account a SCIM token provisioned. scope_group_id is the token's group
-- when it created the account: tokens of that group, or of a group above it, see the account;
-- no other token does. The columns after user_name are copied from the resource (kept whole
-- in scim_user_docs), lower-cased except external_id and manager_id, so that filters and
-- sorting run in SQL and compare without calling lower() on every row. users keeps what Roster itself uses (username = lower-cased userName,
-- email, names, language, status). version counts SCIM changes (the ETag). deleted_at: the
-- client sent DELETE; the account is suspended with users.delete_at set, and SCIM shows it no
-- more.
CREATE TABLE scim_users (
    user_id            BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    scope_group_id     BIGINT  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    external_id        TEXT    NOT NULL DEFAULT '',
    user_name          TEXT    NOT NULL,                 -- as the client spelled it
    given_name         TEXT    NOT NULL DEFAULT '',
    family_name        TEXT    NOT NULL DEFAULT '',
    display_name       TEXT    NOT NULL DEFAULT '',
    nick_name          TEXT    NOT NULL DEFAULT '',
    title              TEXT    NOT NULL DEFAULT '',
    user_type          TEXT    NOT NULL DEFAULT '',
    preferred_language TEXT    NOT NULL DEFAULT '',
    locale             TEXT    NOT NULL DEFAULT '',
    timezone           TEXT    NOT NULL DEFAULT '',
    employee_number    TEXT    NOT NULL DEFAULT '',      -- enterprise extension
    cost_center        TEXT    NOT NULL DEFAULT '',
    organization       TEXT    NOT NULL DEFAULT '',
    division           TEXT    NOT NULL DEFAULT '',
    department         TEXT    NOT NULL DEFAULT '',
    manager_id         TEXT    NOT NULL DEFAULT '',
    version            BIGINT  NOT NULL DEFAULT 1,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    deleted_at         BIGINT
);
CREATE INDEX scim_users_scope ON scim_users (scope_group_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX scim_users_external_id ON scim_users (external_id);
-- Equality and prefix (sw) filters on the names are index range scans (text_pattern_ops:
-- LIKE 'prefix%' uses the index whatever the database's collation).
CREATE INDEX scim_users_given_name ON scim_users (given_name text_pattern_ops);
CREATE INDEX scim_users_family_name ON scim_users (family_name text_pattern_ops);
CREATE INDEX scim_users_display_name ON scim_users (display_name text_pattern_ops);
CREATE INDEX scim_users_employee_number ON scim_users (employee_number);

-- The resource as the client last wrote it (JSON, canonical attribute names), apart from the
-- filter columns so that scanning those stays cheap.
CREATE TABLE scim_user_docs (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    doc     TEXT   NOT NULL DEFAULT '{}'
);

-- The values of multi-valued user attributes that filters may name (emails, phoneNumbers),
-- one row each, so that emails[type eq "work" and value eq "x"] is an indexed sub-query.
-- type, value_norm and display are lower-cased.
CREATE TABLE scim_user_values (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attr       TEXT    NOT NULL,                         -- emails | phoneNumbers
    ord        INTEGER NOT NULL,                         -- position in the list
    type       TEXT    NOT NULL DEFAULT '',
    value_norm TEXT    NOT NULL DEFAULT '',
    display    TEXT    NOT NULL DEFAULT '',
    is_primary BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, attr, ord)
);
CREATE INDEX scim_user_values_value ON scim_user_values (attr, value_norm);

-- The version (ETag) of groups SCIM has written; groups SCIM never touched read as version 0.
CREATE TABLE scim_groups (
    group_id   BIGINT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
