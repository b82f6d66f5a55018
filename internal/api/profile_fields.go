package api

import (
	"net/http"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
)

// Custom profile fields (an addition to CONTRACT.md): GET|POST /api/v1/profile-fields,
// PATCH|DELETE /api/v1/profile-fields/{id}. Anyone logged in may read the definitions (forms
// show them); platform administrators change them.

// ProfileField is the API's form of a custom profile field definition.
type ProfileField struct {
	ID        string   `json:"id"`
	Key       string   `json:"key"`
	Label     string   `json:"label"`
	Kind      string   `json:"kind"` // text, choice or date
	Options   []string `json:"options"`
	Required  bool     `json:"required"`
	SortOrder int      `json:"sort_order"`
}

func profileFieldOf(f *account.ProfileField) ProfileField {
	opts := f.Options
	if opts == nil {
		opts = []string{}
	}
	return ProfileField{ID: ID(f.ID), Key: f.Key, Label: f.Label, Kind: f.Kind, Options: opts, Required: f.Required,
		SortOrder: f.SortOrder}
}

// profileFieldIn is the body of POST and PATCH; PATCH leaves absent fields as they are.
type profileFieldIn struct {
	Key       *string   `json:"key"`
	Label     *string   `json:"label"`
	Kind      *string   `json:"kind"`
	Options   *[]string `json:"options"`
	Required  *bool     `json:"required"`
	SortOrder *int      `json:"sort_order"`
}

func (in profileFieldIn) apply(f *account.ProfileField) {
	if in.Key != nil {
		f.Key = *in.Key
	}
	if in.Label != nil {
		f.Label = *in.Label
	}
	if in.Kind != nil {
		f.Kind = *in.Kind
	}
	if in.Options != nil {
		f.Options = *in.Options
	}
	if in.Required != nil {
		f.Required = *in.Required
	}
	if in.SortOrder != nil {
		f.SortOrder = *in.SortOrder
	}
}

func (a *API) listProfileFields(w http.ResponseWriter, r *http.Request) {
	if _, err := authz.RequireUser(r.Context()); err != nil {
		a.problem(w, r, err)
		return
	}
	fs, err := a.Accounts.ProfileFields(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[ProfileField]{Items: make([]ProfileField, 0, len(fs))}
	for i := range fs {
		out.Items = append(out.Items, profileFieldOf(&fs[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createProfileField(w http.ResponseWriter, r *http.Request) {
	var in profileFieldIn
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	var f account.ProfileField
	in.apply(&f)
	created, err := a.Accounts.CreateProfileField(r.Context(), f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, profileFieldOf(created))
}

func (a *API) patchProfileField(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in profileFieldIn
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		a.problem(w, r, err)
		return
	}
	fs, err := a.Accounts.ProfileFields(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	for _, f := range fs {
		if f.ID == id {
			in.apply(&f)
			updated, err := a.Accounts.UpdateProfileField(r.Context(), id, f)
			if err != nil {
				a.problem(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, profileFieldOf(updated))
			return
		}
	}
	a.problem(w, r, errs.Coded(errs.NotFound, "api_no_such_profile_field"))
}

func (a *API) deleteProfileField(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Accounts.DeleteProfileField(r.Context(), id); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
