package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/config"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/invite"
	"roster/internal/server"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The authorization matrix: every API route, every state-changing web action, SCIM, health
// and metrics, asked by every kind of caller, about an object in the callers' scope (branch
// A) and one outside it (branch B), against the handler `roster serve` builds. The expected
// answer of each cell is in matrixRows; a route registered without a row fails the test.
//
// The callers: a platform administrator (P); the user administrator (UA), group
// administrator (GA) and trainer (TR) of group A; the teacher of course A (TE); a learner of
// A (L); nobody (AN); the SCIM token of group A (SC); and an API token acting as each of P,
// UA, GA, TR, TE and L ("tok:" before the name), which must answer as the person does on the
// JSON API and be refused everywhere else.
//
// A cell is "allowed" unless the answer is 401, 403, 404 (the objects exist, so 404 hides
// them) or, for a web page, a redirection to /login. For public rows, every caller admitted
// to the lane must get the same status.

// role names.
var matrixPeople = []string{"P", "UA", "GA", "TR", "TE", "L"}

type matrixRow struct {
	pattern string // as registered
	method  string // when the pattern has none (catch-alls)
	in, out string // paths; out "" when the route has no object outside the scope
	body    string // JSON for /api and /scim, a form for the web pages
	// inAllow, outAllow: who is allowed, space-separated among P UA GA TR TE L AN SC; "*"
	// for everyone (a public endpoint: everyone gets the same status).
	inAllow, outAllow string
	missingOK         bool // the row names no existing object: 404 counts as allowed
	freshSession      bool // the request ends the caller's session (logout)
}

// matrixRows is the whole table. Placeholders: {gA} group A, {gA1} its sub-group, {gB} group
// B; {uIn} a learner of A1, {uOut} a learner of B; {cA} course A (TE teaches, L studies),
// {cB} course B; {invA}, {invB} pending invitations into A and B, {invAmail}, {invBmail}
// their addresses; {pf} a profile field; {uniq} a fresh word. Placeholders starting with
// "new" create a fresh object for each cell: {newgA}/{newgB} sub-groups, {newuA}/{newuB}
// learners (of A1 and B), {newinvA}/{newinvB} invitations, {newcinvA}/{newcinvB} invitations into the courses,
// {newmA}/{newmB} methods of the
// courses, {newpf} a profile field; {newuA.login} is its username.
var matrixRows = []matrixRow{
	// Health and metrics.
	{pattern: "GET /healthz", in: "/healthz", inAllow: "*"},
	{pattern: "GET /metrics", in: "/metrics", inAllow: "P"}, // platform administrators (see docs/security.md)
	// SCIM: its token only, and only under its group.
	{pattern: "/scim/v2/", method: "GET", in: "/scim/v2/Users", out: "/scim/v2/Users/{uOut}", inAllow: "SC", outAllow: ""},

	// The JSON API, public part.
	{pattern: "POST /api/v1/auth/login", in: "/api/v1/auth/login", body: `{"login":"nobody-{uniq}","password":"wrong password here"}`, inAllow: "*"},
	{pattern: "POST /api/v1/auth/logout", in: "/api/v1/auth/logout", inAllow: "*", freshSession: true},
	{pattern: "POST /api/v1/auth/password/forgot", in: "/api/v1/auth/password/forgot", body: `{"login":"nobody-{uniq}"}`, inAllow: "*"},
	{pattern: "POST /api/v1/auth/password/reset", in: "/api/v1/auth/password/reset", body: `{"token":"x{uniq}","password":"a long new passphrase"}`, inAllow: "*"},
	{pattern: "POST /api/v1/account/setup", in: "/api/v1/account/setup", body: `{"token":"x{uniq}","password":"a long new passphrase"}`, inAllow: "*"},
	{pattern: "POST /api/v1/invitations/accept", in: "/api/v1/invitations/accept", body: `{"token":"x{uniq}","first_name":"A","last_name":"B","password":"a long new passphrase"}`, inAllow: "*"},
	{pattern: "/api/", method: "GET", in: "/api/v1/no-such-thing", inAllow: "*"},

	// The JSON API: oneself, mail, billing, audit.
	{pattern: "GET /api/v1/me", in: "/api/v1/me", inAllow: "P UA GA TR TE L"},
	{pattern: "GET /api/v1/mail", in: "/api/v1/mail?to={invAmail}", inAllow: "P"},
	{pattern: "GET /api/v1/billing", in: "/api/v1/billing", inAllow: "P"},
	{pattern: "GET /api/v1/audit", in: "/api/v1/audit", inAllow: "P"},

	// Groups.
	{pattern: "POST /api/v1/groups", in: "/api/v1/groups", body: `{"name":"G{uniq}","parent_id":"{gX}"}`, inAllow: "P UA GA",
		out: "/api/v1/groups", outAllow: "P"},
	{pattern: "GET /api/v1/groups/{id}", in: "/api/v1/groups/{gA}", out: "/api/v1/groups/{gB}", inAllow: "P UA GA TR", outAllow: "P"},
	{pattern: "PATCH /api/v1/groups/{id}", in: "/api/v1/groups/{gA1}", out: "/api/v1/groups/{gB}", body: `{"description":"d{uniq}"}`, inAllow: "P UA GA", outAllow: "P"},
	{pattern: "DELETE /api/v1/groups/{id}", in: "/api/v1/groups/{newgA}", out: "/api/v1/groups/{newgB}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "GET /api/v1/groups/{id}/delete-preview", in: "/api/v1/groups/{gA1}/delete-preview", out: "/api/v1/groups/{gB}/delete-preview", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "GET /api/v1/groups/{id}/members", in: "/api/v1/groups/{gA}/members", out: "/api/v1/groups/{gB}/members", inAllow: "P UA GA TR", outAllow: "P"},
	{pattern: "GET /api/v1/groups/{id}/members.csv", in: "/api/v1/groups/{gA}/members.csv", out: "/api/v1/groups/{gB}/members.csv", inAllow: "P UA GA TR", outAllow: "P"},
	// Out: step 1 of the chain, a learner of B added to A by id.
	{pattern: "PUT /api/v1/groups/{id}/members/{user_id}", in: "/api/v1/groups/{gA}/members/{newuA}", out: "/api/v1/groups/{gA}/members/{newuB}",
		body: `{"role":"learner"}`, inAllow: "P UA GA", outAllow: "P"},
	{pattern: "DELETE /api/v1/groups/{id}/members/{user_id}", in: "/api/v1/groups/{gA1}/members/{newuA}", out: "/api/v1/groups/{gB}/members/{newuB}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "GET /api/v1/groups/{id}/members/{user_id}/preview", in: "/api/v1/groups/{gA}/members/{uIn}/preview", out: "/api/v1/groups/{gA}/members/{uOut}/preview", inAllow: "P UA GA", outAllow: "P"},

	// Courses.
	{pattern: "POST /api/v1/courses", in: "/api/v1/courses", body: `{"shortname":"c{uniq}","fullname":"Course {uniq}"}`, inAllow: "P"},
	// The catalogue: visible courses for everyone, anonymous visitors included.
	{pattern: "GET /api/v1/courses", in: "/api/v1/courses", inAllow: "*"},
	{pattern: "GET /api/v1/courses/{id}", in: "/api/v1/courses/{cA}", out: "/api/v1/courses/{cB}", inAllow: "P TE L", outAllow: "P"},
	{pattern: "POST /api/v1/courses/{id}/methods", in: "/api/v1/courses/{cA}/methods", out: "/api/v1/courses/{cB}/methods", body: `{"type":"self","name":"m{uniq}"}`, inAllow: "P TE", outAllow: "P"},
	{pattern: "GET /api/v1/courses/{id}/methods", in: "/api/v1/courses/{cA}/methods", out: "/api/v1/courses/{cB}/methods", inAllow: "P TE", outAllow: "P"},
	{pattern: "DELETE /api/v1/courses/{id}/methods/{method_id}", in: "/api/v1/courses/{cA}/methods/{newmA}", out: "/api/v1/courses/{cB}/methods/{newmB}", inAllow: "P TE", outAllow: "P"},
	{pattern: "GET /api/v1/course-roles", in: "/api/v1/course-roles", inAllow: "P UA GA TR TE L"},
	{pattern: "POST /api/v1/course-roles", in: "/api/v1/course-roles", body: `{"shortname":"r{uniq}","name":"Role {uniq}","base_role":"student"}`, inAllow: "P"},
	{pattern: "PATCH /api/v1/course-roles/{shortname}", in: "/api/v1/course-roles/none{uniq}", body: `{"name":"R"}`, inAllow: "P", missingOK: true},
	{pattern: "GET /api/v1/course-role-map", in: "/api/v1/course-role-map", inAllow: "P"},
	{pattern: "PUT /api/v1/course-role-map/{name}", in: "/api/v1/course-role-map/m{uniq}", body: `{"role":"student"}`, inAllow: "P"},
	{pattern: "DELETE /api/v1/course-role-map/{name}", in: "/api/v1/course-role-map/m{uniq}", inAllow: "P", missingOK: true},
	{pattern: "POST /api/v1/courses/{id}/enrolments", in: "/api/v1/courses/{cA}/enrolments", out: "/api/v1/courses/{cB}/enrolments", body: `{"user_ids":["{newuA}"],"role":"student"}`, inAllow: "P TE", outAllow: "P"},
	{pattern: "GET /api/v1/courses/{id}/participants", in: "/api/v1/courses/{cA}/participants", out: "/api/v1/courses/{cB}/participants", inAllow: "P TE", outAllow: "P"},
	{pattern: "GET /api/v1/courses/{id}/participants.csv", in: "/api/v1/courses/{cA}/participants.csv", out: "/api/v1/courses/{cB}/participants.csv", inAllow: "P TE", outAllow: "P"},

	// Accounts.
	{pattern: "GET /api/v1/users", in: "/api/v1/users", inAllow: "P UA GA"},
	{pattern: "POST /api/v1/users", in: "/api/v1/users", out: "/api/v1/users", inAllow: "P UA", outAllow: "P",
		body: `{"email":"n{uniq}@example.org","first_name":"N","last_name":"New","notify":false,"groups":[{"group_id":"{gX}","role":"learner"}]}`},
	{pattern: "GET /api/v1/users/{id}", in: "/api/v1/users/{uIn}", out: "/api/v1/users/{uOut}", inAllow: "P UA GA", outAllow: "P"},
	// Out: step 2 of the chain (the learner of B cannot be managed from A).
	{pattern: "PATCH /api/v1/users/{id}", in: "/api/v1/users/{newuA}", out: "/api/v1/users/{newuB}", body: `{"email":"moved{uniq}@example.org"}`, inAllow: "P UA", outAllow: "P"},
	{pattern: "DELETE /api/v1/users/{id}", in: "/api/v1/users/{newuA}", out: "/api/v1/users/{newuB}", inAllow: "P UA", outAllow: "P"},

	// Profile fields.
	{pattern: "GET /api/v1/profile-fields", in: "/api/v1/profile-fields", inAllow: "P UA GA TR TE L"},
	{pattern: "POST /api/v1/profile-fields", in: "/api/v1/profile-fields", body: `{"key":"k{uniq}","label":"K","kind":"text"}`, inAllow: "P"},
	{pattern: "PATCH /api/v1/profile-fields/{id}", in: "/api/v1/profile-fields/{pf}", body: `{"label":"L{uniq}"}`, inAllow: "P"},
	{pattern: "DELETE /api/v1/profile-fields/{id}", in: "/api/v1/profile-fields/{newpf}", inAllow: "P"},

	// Invitations.
	{pattern: "POST /api/v1/invitations", in: "/api/v1/invitations", out: "/api/v1/invitations", inAllow: "P UA GA", outAllow: "P",
		body: `{"emails":"i{uniq}@example.org","groups":[{"group_id":"{gX}","role":"learner"}]}`},
	// A teacher lists the invitations they sent into their courses.
	{pattern: "GET /api/v1/invitations", in: "/api/v1/invitations", inAllow: "P UA GA TE"},
	{pattern: "GET /api/v1/invitations/{id}", in: "/api/v1/invitations/{invA}", out: "/api/v1/invitations/{invB}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "PATCH /api/v1/invitations/{id}", in: "/api/v1/invitations/{newinvA}", out: "/api/v1/invitations/{newinvB}", body: `{"email":"e{uniq}@example.org"}`, inAllow: "P UA GA", outAllow: "P"},
	{pattern: "DELETE /api/v1/invitations/{id}", in: "/api/v1/invitations/{newinvA}", out: "/api/v1/invitations/{newinvB}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /api/v1/invitations/{id}/resend", in: "/api/v1/invitations/{newinvA}/resend", out: "/api/v1/invitations/{newinvB}/resend", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /api/v1/invitations/{id}/link", in: "/api/v1/invitations/{newinvA}/link", out: "/api/v1/invitations/{newinvB}/link", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /api/v1/invitations/resend", in: "/api/v1/invitations/resend", out: "/api/v1/invitations/resend", body: `{"group_id":"{gX}"}`, inAllow: "P UA GA", outAllow: "P"},
	// Allowed to those who manage some invitations, whatever the address (the result says
	// not_invited for others' invitations: TestInvitationsAnswerAlike).
	{pattern: "POST /api/v1/invitations/cancel", in: "/api/v1/invitations/cancel", out: "/api/v1/invitations/cancel", body: `{"emails":"{newinvX.mail}"}`, inAllow: "P UA GA TE", outAllow: "P UA GA TE"},
	// Adding existing accounts is the weaker right of the group: allowed, and anchors nothing
	// (TestTakeOverChainFails).
	{pattern: "POST /api/v1/invitations/add-existing", in: "/api/v1/invitations/add-existing", out: "/api/v1/invitations/add-existing",
		body: `{"user_ids":["{newuB}"],"groups":[{"group_id":"{gX}","role":"learner"}]}`, inAllow: "P UA GA", outAllow: "P"},

	// Imports and the sync: platform administrators.
	{pattern: "POST /api/v1/imports", in: "/api/v1/imports?format=tsv&mode=preview", body: "username\tfirstname\tlastname\temail\n", inAllow: "P"},
	{pattern: "POST /api/v1/imports/{id}/undo", in: "/api/v1/imports/999999/undo", inAllow: "P", missingOK: true},
	{pattern: "GET /api/v1/sync/runs", in: "/api/v1/sync/runs", inAllow: "P"},
	{pattern: "GET /api/v1/sync/sources", in: "/api/v1/sync/sources", inAllow: "P"},
	{pattern: "POST /api/v1/sync/sources", in: "/api/v1/sync/sources", body: `{"name":"s{uniq}","kind":"csv","location":"/nonexistent/{uniq}.csv"}`, inAllow: "P"},
	{pattern: "PUT /api/v1/sync/sources/{name}", in: "/api/v1/sync/sources/none{uniq}", body: `{"kind":"csv","location":"/nonexistent/x.csv"}`, inAllow: "P", missingOK: true},
	{pattern: "DELETE /api/v1/sync/sources/{name}", in: "/api/v1/sync/sources/none{uniq}", inAllow: "P", missingOK: true},
	{pattern: "POST /api/v1/sync/sources/{name}/run", in: "/api/v1/sync/sources/none{uniq}/run", inAllow: "P", missingOK: true},

	// The OpenID provider's clients: platform administrators.
	{pattern: "POST /api/v1/oidc/clients", in: "/api/v1/oidc/clients", body: `{"name":"w{uniq}","redirect_uris":["https://lms.example.org/cb"]}`, inAllow: "P"},
	{pattern: "GET /api/v1/oidc/clients", in: "/api/v1/oidc/clients", inAllow: "P"},
	{pattern: "GET /api/v1/oidc/clients/{id}", in: "/api/v1/oidc/clients/999999", inAllow: "P", missingOK: true},
	{pattern: "PATCH /api/v1/oidc/clients/{id}", in: "/api/v1/oidc/clients/999999", body: `{"name":"x"}`, inAllow: "P", missingOK: true},
	{pattern: "DELETE /api/v1/oidc/clients/{id}", in: "/api/v1/oidc/clients/999999", inAllow: "P", missingOK: true},
	{pattern: "POST /api/v1/oidc/clients/{id}/secret", in: "/api/v1/oidc/clients/999999/secret", inAllow: "P", missingOK: true},
	// The OpenID provider's protocol endpoints: public, the client authenticates itself
	// (Roster's API and SCIM tokens are refused, out of their lane).
	{pattern: "POST /oidc/authorize", in: "/oidc/authorize", body: "client_id=none{uniq}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example%2F", inAllow: "*"},
	{pattern: "POST /oidc/token", in: "/oidc/token", body: "grant_type=client_credentials&client_id=none{uniq}&client_secret=x", inAllow: "*"},
	{pattern: "POST /oidc/userinfo", in: "/oidc/userinfo", inAllow: "*"},
	{pattern: "POST /oidc/revoke", in: "/oidc/revoke", body: "token=x{uniq}&client_id=none{uniq}&client_secret=x", inAllow: "*"},
	{pattern: "POST /oidc/introspect", in: "/oidc/introspect", body: "token=x{uniq}&client_id=none{uniq}&client_secret=x", inAllow: "*"},
	{pattern: "POST /oidc/end_session", in: "/oidc/end_session", inAllow: "*"},

	// Web pages that show people (a row is optional for pages that only read).
	{pattern: "GET /admin/users", in: "/admin/users", inAllow: "P UA GA"},
	{pattern: "GET /admin/users/{id}", in: "/admin/users/{uIn}", out: "/admin/users/{uOut}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "GET /admin/mail", in: "/admin/mail", inAllow: "P"},
	{pattern: "POST /admin/mail/{id}/send-now", in: "/admin/mail/999999/send-now", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/mail/{id}/cancel", in: "/admin/mail/999999/cancel", inAllow: "P", missingOK: true},
	{pattern: "GET /groups/{id}/members.csv", in: "/groups/{gA}/members.csv", out: "/groups/{gB}/members.csv", inAllow: "P UA GA TR", outAllow: "P"},
	{pattern: "GET /groups/{id}/members/add", in: "/groups/{gA}/members/add?login=outside&role=learner", out: "/groups/{gB}/members/add?login=inside&role=learner", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "GET /courses/{id}/enrol/search", in: "/courses/{cA}/enrol/search?q=matrix", out: "/courses/{cB}/enrol/search?q=matrix", inAllow: "P TE", outAllow: "P"},

	// Web pages: the state-changing actions. Public ones first.
	{pattern: "POST /setup/{token}", in: "/setup/x{uniq}", body: "password=a+long+new+passphrase", inAllow: "*"},
	{pattern: "POST /login", in: "/login", body: "login=nobody-{uniq}&password=wrong+password+here", inAllow: "*"},
	{pattern: "POST /logout", in: "/logout", inAllow: "*", freshSession: true},
	{pattern: "POST /password/forgot", in: "/password/forgot", body: "login=nobody-{uniq}", inAllow: "*"},
	{pattern: "POST /password/reset/{token}", in: "/password/reset/x{uniq}", body: "password=a+long+new+passphrase&confirm=a+long+new+passphrase", inAllow: "*"},
	{pattern: "POST /account/setup/{token}", in: "/account/setup/x{uniq}", body: "password=a+long+new+passphrase&confirm=a+long+new+passphrase", inAllow: "*"},
	{pattern: "POST /invitation/{token}", in: "/invitation/x{uniq}", body: "first_name=A&last_name=B&password=a+long+new+passphrase", inAllow: "*"},
	{pattern: "POST /invitation/{token}/renew", in: "/invitation/x{uniq}/renew", inAllow: "*"},
	{pattern: "POST /sso/{slug}/cas", in: "/sso/none{uniq}/cas", body: "logoutRequest=x", inAllow: "*"},

	// Accounts.
	{pattern: "POST /admin/users/{id}", in: "/admin/users/{newuA}", out: "/admin/users/{newuB}", body: "first_name=N&last_name=M&email=w{uniq}%40example.org&username=w{uniq}", inAllow: "P UA", outAllow: "P"},
	{pattern: "POST /admin/users/{id}/status", in: "/admin/users/{newuA}/status", out: "/admin/users/{newuB}/status", body: "status=suspended", inAllow: "P UA", outAllow: "P"},
	{pattern: "POST /admin/users/{id}/delete", in: "/admin/users/{newuA}/delete", out: "/admin/users/{newuB}/delete", body: "confirm=yes", inAllow: "P UA", outAllow: "P"},
	{pattern: "POST /admin/profile-fields", in: "/admin/profile-fields", body: "key=w{uniq}&label=W&kind=text", inAllow: "P"},
	{pattern: "POST /admin/profile-fields/{id}", in: "/admin/profile-fields/{pf}", body: "label=W{uniq}&kind=text", inAllow: "P"},
	{pattern: "POST /admin/profile-fields/{id}/delete", in: "/admin/profile-fields/{newpf}/delete", inAllow: "P"},
	{pattern: "POST /admin/settings/accounts", in: "/admin/settings/accounts", body: "shared_email=0", inAllow: "P"},
	{pattern: "POST /admin/settings", in: "/admin/settings", body: "site_language=en&site_timezone=UTC", inAllow: "P"},
	{pattern: "POST /admin/imports/preview", in: "/admin/imports/preview", body: "format=tsv", inAllow: "P"},
	{pattern: "POST /admin/imports/apply", in: "/admin/imports/apply", body: "batch=999999", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/imports/{id}/undo", in: "/admin/imports/999999/undo", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/course-roles", in: "/admin/course-roles", body: "shortname=w{uniq}&name=W&base_role=student", inAllow: "P"},
	{pattern: "POST /admin/course-roles/map", in: "/admin/course-roles/map", body: "map_name=w{uniq}&map_role=student", inAllow: "P"},
	{pattern: "POST /admin/course-roles/{shortname}/names", in: "/admin/course-roles/none{uniq}/names", body: "name=W", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/sync", in: "/admin/sync", body: "name=w{uniq}&kind=csv&path=%2Fnonexistent%2Fx.csv", inAllow: "P"},
	{pattern: "POST /admin/sync/{name}", in: "/admin/sync/none{uniq}", body: "kind=csv&path=%2Fnonexistent%2Fx.csv", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/sync/{name}/run", in: "/admin/sync/none{uniq}/run", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/sync/{name}/delete", in: "/admin/sync/none{uniq}/delete", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/oidc-clients", in: "/admin/oidc-clients", body: "name=w{uniq}&redirect_uris=https%3A%2F%2Flms.example.org%2Fcb&grant_types=authorization_code", inAllow: "P"},
	{pattern: "POST /admin/oidc-clients/{id}", in: "/admin/oidc-clients/999999", body: "name=x", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/oidc-clients/{id}/delete", in: "/admin/oidc-clients/999999/delete", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/oidc-clients/{id}/secret", in: "/admin/oidc-clients/999999/secret", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/sso/convert", in: "/admin/sso/convert", body: "provider=none", inAllow: "P", missingOK: true},
	{pattern: "POST /admin/sso/{id}", in: "/admin/sso/999999", body: "name=x", inAllow: "P", missingOK: true},

	// Courses.
	{pattern: "POST /courses", in: "/courses", body: "shortname=w{uniq}&fullname=W", inAllow: "P"},
	{pattern: "POST /courses/{id}/participants/bulk", in: "/courses/{cA}/participants/bulk", out: "/courses/{cB}/participants/bulk", body: "action=suspend&user={uX}", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/enrol", in: "/courses/{cA}/enrol", out: "/courses/{cB}/enrol", body: "role=student&user={newuA}", inAllow: "P TE", outAllow: "P"},
	{pattern: "GET /courses/{id}/invitations", in: "/courses/{cA}/invitations", out: "/courses/{cB}/invitations", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/invitations", in: "/courses/{cA}/invitations", out: "/courses/{cB}/invitations", body: "emails=w{uniq}%40example.org", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/invitations/{inv}/resend", in: "/courses/{cA}/invitations/{newcinvA}/resend", out: "/courses/{cB}/invitations/{newcinvB}/resend", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/invitations/{inv}/cancel", in: "/courses/{cA}/invitations/{newcinvA}/cancel", out: "/courses/{cB}/invitations/{newcinvB}/cancel", inAllow: "P TE", outAllow: "P"},
	{pattern: "GET /courses/{id}/methods", in: "/courses/{cA}/methods", out: "/courses/{cB}/methods", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/methods", in: "/courses/{cA}/methods", out: "/courses/{cB}/methods", body: "type=self&name=w{uniq}&role=student", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/methods/{mid}", in: "/courses/{cA}/methods/{newmA}", out: "/courses/{cB}/methods/{newmB}", body: "name=w{uniq}&enrol_key=k", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/methods/{mid}/enable", in: "/courses/{cA}/methods/{newmA}/enable", out: "/courses/{cB}/methods/{newmB}/enable", body: "enabled=0", inAllow: "P TE", outAllow: "P"},
	{pattern: "POST /courses/{id}/methods/{mid}/delete", in: "/courses/{cA}/methods/{newmA}/delete", out: "/courses/{cB}/methods/{newmB}/delete", inAllow: "P TE", outAllow: "P"},
	// Any logged-in person may enrol themself by a course's self-enrolment method (the course
	// is then visible to them); tokens and anonymous visitors may not.
	{pattern: "POST /courses/{id}/self-enrol", in: "/courses/{cA}/self-enrol", out: "/courses/{cB}/self-enrol", body: "method={newmX}", inAllow: "P UA GA TR TE L", outAllow: "P UA GA TR TE L"},

	// Invitations and external accounts.
	{pattern: "POST /invitations/new", in: "/invitations/new", out: "/invitations/new", body: "emails=w{uniq}%40example.org&group_id={gX}&role=learner", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /invitations/add-existing", in: "/invitations/add-existing", out: "/invitations/add-existing", body: "user_id={newuB}&group_id={gX}&role=learner", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /invitations/resend-all", in: "/invitations/resend-all", out: "/invitations/resend-all", body: "group_id={gX}", inAllow: "P UA GA", outAllow: "P"},
	// The page is the invitations list, which is for those who invite into groups or courses.
	{pattern: "POST /invitations/cancel-many", in: "/invitations/cancel-many", out: "/invitations/cancel-many", body: "emails={newinvX.mail}", inAllow: "P UA GA TE", outAllow: "P UA GA TE"},
	{pattern: "POST /invitations/lifetime", in: "/invitations/lifetime", body: "days=30", inAllow: "P"},
	{pattern: "POST /invitations/{id}/resend", in: "/invitations/{newinvA}/resend", out: "/invitations/{newinvB}/resend", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /invitations/{id}/cancel", in: "/invitations/{newinvA}/cancel", out: "/invitations/{newinvB}/cancel", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /invitations/{id}/link", in: "/invitations/{newinvA}/link", out: "/invitations/{newinvB}/link", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /external/new", in: "/external/new", body: "email=x{uniq}%40example.org&first_name=X&last_name=Y&course={cA}", inAllow: "P TE"},

	// Groups.
	{pattern: "POST /groups", in: "/groups", out: "/groups", body: "name=w{uniq}&parent_id={gX}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /groups/{id}", in: "/groups/{gA1}", out: "/groups/{gB}", body: "description=d{uniq}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /groups/{id}/move", in: "/groups/{newgA}/move", out: "/groups/{newgB}/move", body: "parent_id={gX1}", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /groups/{id}/delete", in: "/groups/{newgA}/delete", out: "/groups/{newgB}/delete", body: "confirm=1", inAllow: "P UA GA", outAllow: "P"},
	// In: a learner of A1 added to A by login; out: added to B.
	{pattern: "POST /groups/{id}/members", in: "/groups/{gA}/members", out: "/groups/{gB}/members", body: "login={newuA.login}&role=learner", inAllow: "P UA GA", outAllow: "P"},
	{pattern: "POST /groups/{id}/members/remove", in: "/groups/{gA1}/members/remove", out: "/groups/{gB}/members/remove", body: "user_id={newuX}&role=learner&source=manual", inAllow: "P UA GA", outAllow: "P"},
}

// onerosterPaths are the OneRoster rostering routes (under both versions' base paths) and a
// path of each in group A's scope and outside it. Their tokens come from the OpenID provider's
// client credentials, not from sessions or API tokens: until a verifier is wired, every caller
// here gets 401.
var onerosterPaths = [][3]string{
	{"/orgs", "/orgs", ""}, {"/orgs/{id}", "/orgs/group-{gA}", "/orgs/group-{gB}"},
	{"/schools", "/schools", ""}, {"/schools/{id}", "/schools/group-{gA}", "/schools/group-{gB}"},
	{"/academicSessions", "/academicSessions", ""}, {"/academicSessions/{id}", "/academicSessions/term-default", ""},
	{"/terms", "/terms", ""}, {"/terms/{id}", "/terms/term-default", ""},
	{"/courses", "/courses", ""}, {"/courses/{id}", "/courses/course-{cA}", "/courses/course-{cB}"},
	{"/classes", "/classes", ""}, {"/classes/{id}", "/classes/class-{cA}", "/classes/class-{cB}"},
	{"/users", "/users", ""}, {"/users/{id}", "/users/user-{uIn}", "/users/user-{uOut}"},
	{"/students", "/students", ""}, {"/students/{id}", "/students/user-{uIn}", "/students/user-{uOut}"},
	{"/teachers", "/teachers", ""}, {"/teachers/{id}", "/teachers/user-{TE}", "/teachers/user-{uOut}"},
	{"/enrollments", "/enrollments", ""}, {"/enrollments/{id}", "/enrollments/enrollment-{cA}-{uIn}-student", "/enrollments/enrollment-{cB}-{uOut}-student"},
	{"/schools/{id}/classes", "/schools/group-{gA}/classes", "/schools/group-{gB}/classes"},
	{"/schools/{id}/courses", "/schools/group-{gA}/courses", "/schools/group-{gB}/courses"},
	{"/schools/{id}/terms", "/schools/group-{gA}/terms", "/schools/group-{gB}/terms"},
	{"/schools/{id}/enrollments", "/schools/group-{gA}/enrollments", "/schools/group-{gB}/enrollments"},
	{"/schools/{id}/students", "/schools/group-{gA}/students", "/schools/group-{gB}/students"},
	{"/schools/{id}/teachers", "/schools/group-{gA}/teachers", "/schools/group-{gB}/teachers"},
	{"/schools/{id}/classes/{class}/enrollments", "/schools/group-{gA}/classes/class-{cA}/enrollments", "/schools/group-{gB}/classes/class-{cB}/enrollments"},
	{"/schools/{id}/classes/{class}/students", "/schools/group-{gA}/classes/class-{cA}/students", "/schools/group-{gB}/classes/class-{cB}/students"},
	{"/schools/{id}/classes/{class}/teachers", "/schools/group-{gA}/classes/class-{cA}/teachers", "/schools/group-{gB}/classes/class-{cB}/teachers"},
	{"/classes/{id}/students", "/classes/class-{cA}/students", "/classes/class-{cB}/students"},
	{"/classes/{id}/teachers", "/classes/class-{cA}/teachers", "/classes/class-{cB}/teachers"},
	{"/courses/{id}/classes", "/courses/course-{cA}/classes", "/courses/course-{cB}/classes"},
	{"/terms/{id}/classes", "/terms/term-default/classes", ""},
	{"/users/{id}/classes", "/users/user-{uIn}/classes", "/users/user-{uOut}/classes"},
	{"/students/{id}/classes", "/students/user-{uIn}/classes", "/students/user-{uOut}/classes"},
	{"/teachers/{id}/classes", "/teachers/user-{TE}/classes", "/teachers/user-{uOut}/classes"},
}

func init() {
	matrixRows = append(matrixRows, matrixRow{pattern: "GET /ims/oneroster/", in: "/ims/oneroster/v1p1/no-such-thing"})
	for _, base := range []string{"/ims/oneroster/v1p1", "/ims/oneroster/rostering/v1p2"} {
		for _, p := range onerosterPaths {
			r := matrixRow{pattern: "GET " + base + p[0], in: base + p[1]}
			if p[2] != "" {
				r.out = base + p[2]
			}
			matrixRows = append(matrixRows, r)
		}
	}
}

// matrixFixture is the world every cell is asked in.
type matrixFixture struct {
	t       *testing.T
	db      *store.DB
	svc     *services
	handler http.Handler
	sys     context.Context
	ids     map[string]int64
	mails   map[string]string
	session map[string]string // role -> session token
	token   map[string]string // role -> API token ("SC" for SCIM)
	logins  map[string]string
	n       atomic.Int64
}

func newMatrixFixture(t *testing.T, db *store.DB) *matrixFixture {
	cfg := &config.Config{BaseURL: "http://roster.test"}
	log := slog.New(slog.DiscardHandler)
	f := &matrixFixture{t: t, db: db, svc: newServices(db, cfg, log), sys: authz.With(context.Background(), authz.System),
		ids: map[string]int64{}, mails: map[string]string{}, session: map[string]string{}, token: map[string]string{}, logins: map[string]string{}}
	deps, err := httpDeps(db, cfg, f.svc, log, httpx.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	f.handler = server.New(deps)

	f.ids["gOrg"] = f.group("Org", 0)
	f.ids["gA"] = f.group("A", f.ids["gOrg"])
	f.ids["gA1"] = f.group("A1", f.ids["gA"])
	f.ids["gB"] = f.group("B", f.ids["gOrg"])
	f.ids["gB1"] = f.group("B1", f.ids["gB"])
	f.ids["P"] = f.user("padmin", true, 0, "")
	f.ids["UA"] = f.user("ua", false, f.ids["gA"], group.UserAdmin)
	f.ids["GA"] = f.user("ga", false, f.ids["gA"], group.GroupAdmin)
	f.ids["TR"] = f.user("tr", false, f.ids["gA"], group.Trainer)
	f.ids["TE"] = f.user("te", false, 0, "")
	f.ids["L"] = f.user("ln", false, f.ids["gA"], group.Learner)
	f.ids["uIn"] = f.user("inside", false, f.ids["gA1"], group.Learner)
	f.ids["uOut"] = f.user("outside", false, f.ids["gB"], group.Learner)
	f.ids["uA"], f.ids["uB"] = f.ids["uIn"], f.ids["uOut"]
	f.ids["cA"] = f.course("ca", map[string]string{"TE": "teacher", "L": "student", "uIn": "student"})
	f.ids["cB"] = f.course("cb", map[string]string{"uOut": "student"})
	f.ids["invA"], f.mails["invA"] = f.invitation("A")
	f.ids["invB"], f.mails["invB"] = f.invitation("B")
	pf, err := f.svc.accounts.CreateProfileField(f.sys, account.ProfileField{Key: "office", Label: "Office", Kind: account.FieldText})
	if err != nil {
		t.Fatal(err)
	}
	f.ids["pf"] = pf.ID

	for _, r := range matrixPeople {
		tok, err := f.svc.accounts.CreateSession(f.sys, f.ids[r], "127.0.0.1", "matrix")
		if err != nil {
			t.Fatal(err)
		}
		f.session[r] = tok
		uid := f.ids[r]
		if r == "P" {
			uid = 0 // a platform token
		}
		if f.token[r], err = f.svc.accounts.CreateAPIToken(f.sys, "matrix "+r, uid, 0); err != nil {
			t.Fatal(err)
		}
	}
	if f.token["SC"], err = f.svc.accounts.CreateAPIToken(f.sys, "matrix scim", 0, f.ids["gA"]); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *matrixFixture) uniq() string { return strconv.FormatInt(f.n.Add(1), 10) }

func (f *matrixFixture) group(name string, parent int64) int64 {
	f.t.Helper()
	g, err := f.svc.groups.Create(f.sys, group.Group{Name: name, ParentID: parent, Visibility: "public"})
	if err != nil {
		f.t.Fatal(err)
	}
	return g.ID
}

func (f *matrixFixture) user(username string, admin bool, groupID int64, role string) int64 {
	f.t.Helper()
	var u *account.User
	err := f.db.Tx(f.sys, func(tx *store.Tx) error {
		var err error
		u, err = f.svc.accounts.CreateUser(f.sys, tx, account.NewUser{Username: username, Email: username + "@example.org",
			FirstName: strings.ToUpper(username[:1]) + username[1:], LastName: "Matrix", IsAdmin: admin})
		if err != nil || groupID == 0 {
			return err
		}
		return group.AddMemberTx(f.sys, tx, groupID, u.ID, role, "")
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.logins[strconv.FormatInt(u.ID, 10)] = username
	return u.ID
}

func (f *matrixFixture) course(short string, people map[string]string) int64 {
	f.t.Helper()
	c, err := f.svc.courses.Create(f.sys, course.Course{Shortname: short, Fullname: "Course " + short, Visible: true})
	if err != nil {
		f.t.Fatal(err)
	}
	for who, role := range people {
		if _, err := f.svc.courses.Enrol(f.sys, c.ID, course.EnrolRequest{UserIDs: []int64{f.ids[who]}, Role: role}); err != nil {
			f.t.Fatal(err)
		}
	}
	return c.ID
}

// invitation invites a fresh address into group A or B and returns the invitation and the address.
func (f *matrixFixture) invitation(side string) (int64, string) {
	f.t.Helper()
	addr := "inv" + f.uniq() + "@example.org"
	res, err := f.svc.invites.Invite(f.sys, invite.Request{Emails: addr, Groups: []invite.Grant{{GroupID: f.ids["g"+side], Role: group.Learner}}})
	if err != nil || len(res) != 1 || res[0].InvitationID == 0 {
		f.t.Fatalf("invite: %+v %v", res, err)
	}
	return res[0].InvitationID, addr
}

// placeholderRE finds {name} (JSON's own braces are followed by a quote).
var placeholderRE = regexp.MustCompile(`\{([A-Za-z][A-Za-z0-9.]*)\}`)

// expand replaces the placeholders of s for one cell; side is "A" (in scope) or "B" (out),
// and replaces X in their names.
func (f *matrixFixture) expand(s, side string) string {
	made := map[string]string{}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.ReplaceAll(m[1:len(m)-1], "X", side)
		if v, ok := made[name]; ok {
			return v
		}
		v := f.placeholder(name, made)
		made[name] = v
		return v
	})
}

func (f *matrixFixture) placeholder(name string, made map[string]string) string {
	base, field, _ := strings.Cut(name, ".")
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	switch {
	case name == "uniq":
		return f.uniq()
	case name == "invAmail" || name == "invBmail":
		return url.QueryEscape(f.mails[strings.TrimSuffix(name, "mail")])
	case strings.HasPrefix(base, "new"):
		what := strings.TrimPrefix(base, "new")
		var v int64
		var mail string
		switch what {
		case "gA", "gB":
			v = f.group("sub"+f.uniq(), f.ids[what])
		case "uA":
			v = f.user("fresh"+f.uniq(), false, f.ids["gA1"], group.Learner)
		case "uB":
			v = f.user("fresh"+f.uniq(), false, f.ids["gB"], group.Learner)
		case "invA", "invB":
			v, mail = f.invitation(strings.TrimPrefix(what, "inv"))
		case "cinvA", "cinvB":
			res, err := f.svc.invites.Invite(f.sys, invite.Request{Emails: "cinv" + f.uniq() + "@example.org", CourseID: f.ids["c"+strings.TrimPrefix(what, "cinv")]})
			if err != nil || len(res) != 1 || res[0].InvitationID == 0 {
				f.t.Fatalf("invite into a course: %+v %v", res, err)
			}
			v, mail = res[0].InvitationID, res[0].Email
		case "mA", "mB":
			m, err := f.svc.courses.AddMethod(f.sys, f.ids["c"+strings.TrimPrefix(what, "m")], course.Method{Type: "self", Enabled: true, Role: "student"})
			if err != nil {
				f.t.Fatal(err)
			}
			v = m.ID
		case "pf":
			pf, err := f.svc.accounts.CreateProfileField(f.sys, account.ProfileField{Key: "f" + f.uniq(), Label: "F", Kind: account.FieldText})
			if err != nil {
				f.t.Fatal(err)
			}
			v = pf.ID
		default:
			f.t.Fatalf("unknown placeholder %q", name)
		}
		made[base] = id(v)
		switch field {
		case "login":
			return f.logins[id(v)]
		case "mail":
			return mail
		}
		return id(v)
	}
	if v, ok := f.ids[name]; ok {
		return id(v)
	}
	if v, ok := made[base]; ok && field == "login" {
		return f.logins[v]
	}
	f.t.Fatalf("unknown placeholder %q", name)
	return ""
}

// matrixCallers are every caller of a cell: the people by session, then by token, then
// anonymous and the SCIM token.
func matrixCallers() []string {
	out := append([]string{}, matrixPeople...)
	for _, p := range matrixPeople {
		out = append(out, "tok:"+p)
	}
	return append(out, "AN", "SC")
}

// ask makes one request as caller and returns the status and the Location header.
func (f *matrixFixture) ask(caller, method, path, body string, freshSession bool) (int, string) {
	rec := f.do(caller, method, path, body, freshSession)
	return rec.Code, rec.Header().Get("Location")
}

// do makes one request as caller and returns the recorded answer.
func (f *matrixFixture) do(caller, method, path, body string, freshSession bool) *httptest.ResponseRecorder {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, rd)
	// Each request from its own address: the per-address limit on public posts is not what
	// this test is about.
	n := f.n.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", (n>>16)&255, (n>>8)&255, n&255)
	switch {
	case strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/scim/"):
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
		}
	case body != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	person, isToken := strings.CutPrefix(caller, "tok:")
	switch {
	case caller == "AN":
	case caller == "SC":
		req.Header.Set("Authorization", "Bearer "+f.token["SC"])
	case isToken:
		req.Header.Set("Authorization", "Bearer "+f.token[person])
	default:
		tok := f.session[caller]
		if freshSession {
			var err error
			if tok, err = f.svc.accounts.CreateSession(f.sys, f.ids[caller], "127.0.0.1", "matrix"); err != nil {
				f.t.Fatal(err)
			}
		}
		req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: tok})
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// matrixAllowed says whether caller is allowed by the set (space-separated roles, or "*"),
// given the lane of path: tokens only on their own.
func matrixAllowed(set, caller, path string) bool {
	if path == "/healthz" {
		return true // health answers before authentication, whatever the headers carry
	}
	person, isToken := strings.CutPrefix(caller, "tok:")
	if isToken && !authz.TokenLane(authz.TokenAPI, path) {
		return false
	}
	if caller == "SC" && !authz.TokenLane(authz.TokenSCIM, path) {
		return false
	}
	if set == "*" {
		return true
	}
	for _, r := range strings.Fields(set) {
		if r == person {
			return true
		}
	}
	return false
}

func matrixDenied(code int, location string, missingOK bool) bool {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return true
	case code == http.StatusNotFound:
		return !missingOK
	case code == http.StatusSeeOther || code == http.StatusFound:
		return strings.HasPrefix(location, "/login")
	}
	return false
}

// TestAuthorizationMatrix asks every cell of matrixRows, on SQLite and PostgreSQL.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		f := newMatrixFixture(t, db)

		// Every route has a row, and every row a route.
		rec := &routeRecorder{ServeMux: http.NewServeMux()}
		deps, err := httpDeps(db, &config.Config{BaseURL: "http://roster.test"}, f.svc, slog.New(slog.DiscardHandler), httpx.NewMetrics())
		if err != nil {
			t.Fatal(err)
		}
		server.Routes(deps, rec)
		rows := map[string]bool{}
		for _, r := range matrixRows {
			if rows[r.pattern] {
				t.Errorf("two rows for %s", r.pattern)
			}
			rows[r.pattern] = true
		}
		registered := map[string]bool{}
		for _, p := range rec.patterns {
			registered[p] = true
			method, _, hasMethod := strings.Cut(p, " ")
			needsRow := !hasMethod || method != "GET" || strings.Contains(p, "/api/") || strings.Contains(p, "/scim/") || strings.Contains(p, "/ims/") ||
				p == "GET /metrics" || p == "GET /healthz"
			if needsRow && !rows[p] {
				t.Errorf("route %q has no row in matrixRows: say who may call it", p)
			}
		}
		for p := range rows {
			if !registered[p] {
				t.Errorf("row %q names no registered route", p)
			}
		}

		cells := 0
		for _, r := range matrixRows {
			method := r.method
			if m, _, ok := strings.Cut(r.pattern, " "); ok && !strings.HasPrefix(r.pattern, "/") {
				method = m
			}
			sides := []struct {
				side, path, allow string
			}{{"A", r.in, r.inAllow}}
			if r.out != "" {
				sides = append(sides, struct{ side, path, allow string }{"B", r.out, r.outAllow})
			}
			for _, s := range sides {
				public := map[int][]string{}
				for _, caller := range matrixCallers() {
					path := f.expand(s.path, s.side)
					body := f.expand(r.body, s.side)
					code, loc := f.ask(caller, method, path, body, r.freshSession)
					cells++
					if code >= 500 {
						t.Errorf("%s %s (%s) as %s: %d", method, path, s.side, caller, code)
						continue
					}
					want := matrixAllowed(s.allow, caller, path)
					got := !matrixDenied(code, loc, r.missingOK)
					if s.allow == "*" && want {
						public[code] = append(public[code], caller)
						continue
					}
					if got != want {
						t.Errorf("%s [%s side %s] as %s: status %d (location %q), want allowed=%v", r.pattern, path, s.side, caller, code, loc, want)
					}
				}
				if len(public) > 1 {
					t.Errorf("%s (side %s): a public endpoint answers differently by caller: %v", r.pattern, s.side, public)
				}
			}
		}
		t.Logf("%d cells", cells)
	})
}

// routeRecorder is a ServeMux that remembers the patterns registered on it.
type routeRecorder struct {
	*http.ServeMux
	patterns []string
}

func (r *routeRecorder) Handle(p string, h http.Handler) {
	r.patterns = append(r.patterns, p)
	r.ServeMux.Handle(p, h)
}

func (r *routeRecorder) HandleFunc(p string, h func(http.ResponseWriter, *http.Request)) {
	r.patterns = append(r.patterns, p)
	r.ServeMux.HandleFunc(p, h)
}
