package api

import (
	"net/http"

	"roster/internal/errs"
	"roster/internal/oidcp"
)

// The OpenID provider's clients (CONTRACT.md, "OpenID Connect provider"), for platform
// administrators: POST|GET /api/v1/oidc/clients, GET|PATCH|DELETE /api/v1/oidc/clients/{id},
// POST /api/v1/oidc/clients/{id}/secret. The secret is in the answer of POST (create and new
// secret) only; Roster keeps its hash.

// OIDCClient is the API's form of a registered client.
type OIDCClient struct {
	*oidcp.Client
	ClientSecret string `json:"client_secret,omitempty"`
}

func (a *API) oidcReady(w http.ResponseWriter, r *http.Request) bool {
	if a.OIDC == nil {
		a.problem(w, r, errs.Coded(errs.Unavailable, "api_oidc_not_configured"))
		return false
	}
	return true
}

func (a *API) oidcClientCreate(w http.ResponseWriter, r *http.Request) {
	if !a.oidcReady(w, r) {
		return
	}
	var in oidcp.ClientInput
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	c, sec, err := a.OIDC.CreateClient(r.Context(), in)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, OIDCClient{Client: c, ClientSecret: sec})
}

func (a *API) oidcClientList(w http.ResponseWriter, r *http.Request) {
	if !a.oidcReady(w, r) {
		return
	}
	cs, err := a.OIDC.Clients(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[OIDCClient]{Items: make([]OIDCClient, 0, len(cs))}
	for _, c := range cs {
		out.Items = append(out.Items, OIDCClient{Client: c})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) oidcClientGet(w http.ResponseWriter, r *http.Request) {
	if !a.oidcReady(w, r) {
		return
	}
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	c, err := a.OIDC.Client(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OIDCClient{Client: c})
}

func (a *API) oidcClientPatch(w http.ResponseWriter, r *http.Request) {
	if !a.oidcReady(w, r) {
		return
	}
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in oidcp.ClientInput
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	c, err := a.OIDC.UpdateClient(r.Context(), id, in)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OIDCClient{Client: c})
}

func (a *API) oidcClientDelete(w http.ResponseWriter, r *http.Request) {
	if !a.oidcReady(w, r) {
		return
	}
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.OIDC.DeleteClient(r.Context(), id); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) oidcClientSecret(w http.ResponseWriter, r *http.Request) {
	if !a.oidcReady(w, r) {
		return
	}
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	c, sec, err := a.OIDC.NewSecret(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OIDCClient{Client: c, ClientSecret: sec})
}
