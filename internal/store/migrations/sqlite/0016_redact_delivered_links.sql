-- No working link at rest (issue 12): emails delivered or given up before this version kept
-- their reset, set-up and invitation links in clear. Cut the token (the 43 URL-safe characters after
-- the path, as secret.New makes them) out of the subject and both bodies, as the worker now does
-- at delivery (mail.redactLinks). Emails still queued are left alone: they are delivered
-- with their link, then redacted.

UPDATE outbox SET
    subject   = replace(subject, substr(text_body, instr(text_body, '/password/reset/') + 16, 43), '…'),
    html_body = replace(html_body, substr(text_body, instr(text_body, '/password/reset/') + 16, 43), '…'),
    text_body = replace(text_body, substr(text_body, instr(text_body, '/password/reset/') + 16, 43), '…')
WHERE template = 'password_reset' AND status IN ('sent', 'failed') AND instr(text_body, '/password/reset/') > 0
    AND length(substr(text_body, instr(text_body, '/password/reset/') + 16, 43)) = 43 AND substr(text_body, instr(text_body, '/password/reset/') + 16, 43) NOT GLOB '*[^A-Za-z0-9_-]*';

UPDATE outbox SET
    subject   = replace(subject, substr(text_body, instr(text_body, '/account/setup/') + 15, 43), '…'),
    html_body = replace(html_body, substr(text_body, instr(text_body, '/account/setup/') + 15, 43), '…'),
    text_body = replace(text_body, substr(text_body, instr(text_body, '/account/setup/') + 15, 43), '…')
WHERE template = 'account_setup' AND status IN ('sent', 'failed') AND instr(text_body, '/account/setup/') > 0
    AND length(substr(text_body, instr(text_body, '/account/setup/') + 15, 43)) = 43 AND substr(text_body, instr(text_body, '/account/setup/') + 15, 43) NOT GLOB '*[^A-Za-z0-9_-]*';

UPDATE outbox SET
    subject   = replace(subject, substr(text_body, instr(text_body, '/invitation/') + 12, 43), '…'),
    html_body = replace(html_body, substr(text_body, instr(text_body, '/invitation/') + 12, 43), '…'),
    text_body = replace(text_body, substr(text_body, instr(text_body, '/invitation/') + 12, 43), '…')
WHERE template = 'invitation' AND status IN ('sent', 'failed') AND instr(text_body, '/invitation/') > 0
    AND length(substr(text_body, instr(text_body, '/invitation/') + 12, 43)) = 43 AND substr(text_body, instr(text_body, '/invitation/') + 12, 43) NOT GLOB '*[^A-Za-z0-9_-]*';
