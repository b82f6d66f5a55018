package web

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/mail"
	"roster/internal/store"
)

// A queued email can be sent now or cancelled from the mail page; a cancelled one is not
// queued any more, and saying so is an error shown on the page; nobody else may.
func TestAdminMailActions(t *testing.T) {
	rg := newRig(t)
	admin := rg.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	ada := rg.user(account.NewUser{Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"})
	if err := rg.db.Tx(rg.ctx, func(tx *store.Tx) error {
		return mail.Enqueue(rg.ctx, tx, mail.Message{Template: "password_reset", To: "ada@example.org", ToName: "Ada", UserID: ada.ID,
			Language: "en", Data: map[string]any{"FirstName": "Ada", "Link": "https://roster.test/password/reset/" +
				"abcdefghijabcdefghijabcdefghijabcdefghij123", "Minutes": 30, "Username": "ada", "TTL": 30 * time.Minute}})
	}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := rg.db.QueryRowContext(rg.ctx, `SELECT id FROM outbox WHERE to_addr = 'ada@example.org'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	path := "/admin/mail/" + strconv.FormatInt(id, 10)
	code, body, _ := rg.call(admin, "GET", "/admin/mail?to=ada@example.org", nil)
	rg.want(code, body, 200, `action="`+path+`/send-now"`, `action="`+path+`/cancel"`, "Send now")
	code, body, _ = rg.call(ada, "POST", path+"/cancel", url.Values{})
	rg.want(code, body, 403)
	code, _, loc := rg.call(admin, "POST", path+"/send-now", url.Values{"to": {"ada@example.org"}})
	rg.want(code, "", 303)
	code, body, _ = rg.call(admin, "GET", loc, nil)
	rg.want(code, body, 200, "The email will be sent in a moment.")
	code, _, loc = rg.call(admin, "POST", path+"/cancel", url.Values{})
	rg.want(code, "", 303)
	code, body, _ = rg.call(admin, "GET", loc+"&lang=fr", nil)
	rg.want(code, body, 200, "L’e-mail est annulé\u00a0: il ne sera pas envoyé.", mail.CancelledError)
	var status string
	if err := rg.db.QueryRowContext(rg.ctx, `SELECT status FROM outbox WHERE id = $1`, id).Scan(&status); err != nil || status != "failed" {
		t.Fatalf("status %q %v", status, err)
	}
	code, body, _ = rg.call(admin, "POST", path+"/cancel", url.Values{})
	rg.want(code, body, 409, "n’attend plus d’être envoyé")
	code, body, _ = rg.call(admin, "POST", "/admin/mail/999999/send-now", url.Values{})
	rg.want(code, body, 404, "introuvable")
}
