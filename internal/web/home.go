package web

import "net/http"

// home is the dashboard: what the logged-in person can do from here.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "home.title")
	w.render(rw, r, http.StatusOK, "home", p)
}
