package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"roster/internal/oidcp"
)

// /admin/oidc-clients: platform administrators register the platforms and tools that log
// people in with Roster (OpenID Connect) or read the OneRoster rostering service (client
// credentials). The secret is shown once, on the page that answers its creation; Roster
// keeps only its hash. The service (oidcp) checks the rights.

type oidcClientsData struct {
	Clients   []*oidcp.Client
	Form      oidcp.Client // the create or edit form
	Editing   int64        // the id of the client edited (0 to create)
	Secret    string       // a secret just made, shown once
	SecretFor *oidcp.Client
	Issuer    string
	Grants    []string
	Scopes    []string
}

// Has reports whether list holds v (for the form's check boxes).
func (oidcClientsData) Has(list []string, v string) bool { return slices.Contains(list, v) }

// Lines joins a list one per line (the text areas).
func (oidcClientsData) Lines(list []string) string { return strings.Join(list, "\n") }

func (w *Web) adminOIDCClients(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "oidc_clients.title")
	d := &oidcClientsData{Form: oidcp.Client{GrantTypes: []string{oidcp.GrantCode}, Scopes: []string{"openid", "profile", "email"}}}
	if id, _ := strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64); id > 0 && w.OIDC != nil {
		c, err := w.OIDC.Client(r.Context(), id)
		if err != nil {
			w.render(rw, r, showError(p, err), "message", p)
			return
		}
		d.Form, d.Editing = *c, c.ID
	}
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = p.L.T("oidc_clients.saved")
	case "deleted":
		p.Notice = p.L.T("oidc_clients.deleted")
	}
	w.oidcClientsRender(rw, r, p, d, http.StatusOK)
}

func (w *Web) oidcClientsRender(rw http.ResponseWriter, r *http.Request, p *Page, d *oidcClientsData, status int) {
	if u := currentUser(r); u == nil || !u.IsAdmin || w.OIDC == nil {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	var err error
	if d.Clients, err = w.OIDC.Clients(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d.Issuer = w.OIDC.Issuer()
	d.Grants = []string{oidcp.GrantCode, oidcp.GrantRefresh, oidcp.GrantClientCredentials}
	d.Scopes = []string{"openid", "profile", "email", "offline_access", oidcp.ScopeGroups, oidcp.ScopeRoles,
		oidcp.ScopeRosterReadonly, oidcp.ScopeRosterCoreReadonly, oidcp.ScopeRosterReadonlyV1p1, oidcp.ScopeRosterCoreReadonlyV1p1}
	p.Data = d
	w.render(rw, r, status, "admin_oidc_clients", p)
}

// oidcClientForm reads the client form; URIs are one per line.
func oidcClientForm(r *http.Request) oidcp.ClientInput {
	lines := func(name string) *[]string {
		out := []string{}
		for _, l := range strings.Split(r.PostFormValue(name), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return &out
	}
	name := formValue(r, "name")
	public := r.PostFormValue("public") == "1"
	grants := r.PostForm["grant_types"]
	scopes := r.PostForm["scopes"]
	if grants == nil {
		grants = []string{}
	}
	if scopes == nil {
		scopes = []string{}
	}
	gid, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("group_id")), 10, 64)
	if err != nil && strings.TrimSpace(r.PostFormValue("group_id")) != "" {
		gid = -1 // reported by the service
	}
	return oidcp.ClientInput{Name: &name, Public: &public, RedirectURIs: lines("redirect_uris"),
		PostLogoutRedirectURIs: lines("post_logout_redirect_uris"), GrantTypes: &grants, Scopes: &scopes, GroupID: &gid}
}

func formClient(in oidcp.ClientInput) oidcp.Client {
	return oidcp.Client{Name: *in.Name, Public: *in.Public, RedirectURIs: *in.RedirectURIs,
		PostLogoutRedirectURIs: *in.PostLogoutRedirectURIs, GrantTypes: *in.GrantTypes, Scopes: *in.Scopes, GroupID: *in.GroupID}
}

func (w *Web) adminOIDCClientCreate(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "oidc_clients.title")
	if w.OIDC == nil {
		w.oidcClientsRender(rw, r, p, &oidcClientsData{}, http.StatusForbidden)
		return
	}
	in := oidcClientForm(r)
	c, secret, err := w.OIDC.CreateClient(r.Context(), in)
	if err != nil {
		w.oidcClientsRender(rw, r, p, &oidcClientsData{Form: formClient(in)}, showError(p, err))
		return
	}
	// No redirect: the secret is on this answer only.
	p.Notice = p.L.T("oidc_clients.created")
	w.oidcClientsRender(rw, r, p, &oidcClientsData{Secret: secret, SecretFor: c,
		Form: oidcp.Client{GrantTypes: []string{oidcp.GrantCode}}}, http.StatusOK)
}

func (w *Web) adminOIDCClientSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "oidc_clients.title")
	if w.OIDC == nil {
		w.oidcClientsRender(rw, r, p, &oidcClientsData{}, http.StatusForbidden)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	in := oidcClientForm(r)
	if _, err := w.OIDC.UpdateClient(r.Context(), id, in); err != nil {
		status := showError(p, err)
		if status == http.StatusNotFound || status == http.StatusForbidden || status == http.StatusUnauthorized {
			w.render(rw, r, status, "message", p)
			return
		}
		w.oidcClientsRender(rw, r, p, &oidcClientsData{Form: formClient(in), Editing: id}, status)
		return
	}
	http.Redirect(rw, r, "/admin/oidc-clients?done=saved", http.StatusSeeOther)
}

func (w *Web) adminOIDCClientDelete(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "oidc_clients.title")
	if w.OIDC == nil {
		w.oidcClientsRender(rw, r, p, &oidcClientsData{}, http.StatusForbidden)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := w.OIDC.DeleteClient(r.Context(), id); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	http.Redirect(rw, r, "/admin/oidc-clients?done=deleted", http.StatusSeeOther)
}

func (w *Web) adminOIDCClientSecret(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "oidc_clients.title")
	if w.OIDC == nil {
		w.oidcClientsRender(rw, r, p, &oidcClientsData{}, http.StatusForbidden)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c, secret, err := w.OIDC.NewSecret(r.Context(), id)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Notice = p.L.T("oidc_clients.new_secret_done")
	w.oidcClientsRender(rw, r, p, &oidcClientsData{Secret: secret, SecretFor: c,
		Form: oidcp.Client{GrantTypes: []string{oidcp.GrantCode}}}, http.StatusOK)
}
