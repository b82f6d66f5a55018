-- The site's own settings (owner: package site): its language and its time zone, chosen at
-- first set-up and on the admin settings page. ROSTER_LANGUAGE / ROSTER_TIMEZONE override them.
CREATE TABLE site_settings (
    name       TEXT   PRIMARY KEY,                 -- language | timezone
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The name of a course role in each language (owner: package course). Built-in roles are named
-- by the catalog; a role an administrator creates has its name, and here a name per language.
CREATE TABLE course_role_names (
    role     TEXT NOT NULL REFERENCES course_roles (shortname) ON DELETE CASCADE,
    language TEXT NOT NULL,                        -- en | fr
    name     TEXT NOT NULL,
    PRIMARY KEY (role, language)
);
