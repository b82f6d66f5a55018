package scim

import (
	"net/http"
	"strings"
)

// The discovery endpoints (RFC 7644 §4): what this service provider supports, its resource
// types and its schemas, generated from the same definitions that validate requests.

func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, object{
		"schemas":          []any{spcSchema},
		"documentationUri": h.cfg.BaseURL + "/docs/scim",
		"patch":            object{"supported": true},
		"bulk":             object{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           object{"supported": true, "maxResults": MaxCount},
		"changePassword":   object{"supported": false},
		"sort":             object{"supported": true},
		"etag":             object{"supported": true},
		"authenticationSchemes": []any{object{"type": "oauthbearertoken", "name": "Bearer token",
			"description": "A token made with: roster token create --name NAME --scim --group ID", "primary": true}},
		"meta": object{"resourceType": "ServiceProviderConfig", "location": h.cfg.BaseURL + "/scim/v2/ServiceProviderConfig"},
	})
}

func (h *Handler) resourceTypeObject(rt *resourceType) object {
	ext := []any{}
	for _, s := range rt.Extensions {
		ext = append(ext, object{"schema": s.ID, "required": false})
	}
	return object{"schemas": []any{rtSchema}, "id": rt.Name, "name": rt.Name, "endpoint": rt.Endpoint,
		"description": rt.Core.Description, "schema": rt.Core.ID, "schemaExtensions": ext,
		"meta": object{"resourceType": "ResourceType", "location": h.cfg.BaseURL + "/scim/v2/ResourceTypes/" + rt.Name}}
}

func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request) {
	list := []any{h.resourceTypeObject(usersType), h.resourceTypeObject(groupsType)}
	writeJSON(w, http.StatusOK, listResponse(len(list), 1, list))
}

func (h *Handler) resourceType(w http.ResponseWriter, r *http.Request) {
	for _, rt := range []*resourceType{usersType, groupsType} {
		if strings.EqualFold(rt.Name, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, h.resourceTypeObject(rt))
			return
		}
	}
	writeError(w, notFound("no resource type %q", r.PathValue("id")))
}

var allSchemas = []*Schema{userCore, enterprise, groupCore}

func (h *Handler) schemaObject(s *Schema) object {
	return object{"schemas": []any{schemaSchema}, "id": s.ID, "name": s.Name, "description": s.Description,
		"attributes": s.Attributes, "meta": object{"resourceType": "Schema", "location": h.cfg.BaseURL + "/scim/v2/Schemas/" + s.ID}}
}

func (h *Handler) schemas(w http.ResponseWriter, r *http.Request) {
	var list []any
	for _, s := range allSchemas {
		list = append(list, h.schemaObject(s))
	}
	writeJSON(w, http.StatusOK, listResponse(len(list), 1, list))
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request) {
	for _, s := range allSchemas {
		if strings.EqualFold(s.ID, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, h.schemaObject(s))
			return
		}
	}
	writeError(w, notFound("no schema %q", r.PathValue("id")))
}
