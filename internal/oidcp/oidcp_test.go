package oidcp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"roster/internal/errs"
	"roster/internal/oidcp"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// each runs fn on SQLite and PostgreSQL with Roster started on a free port, its database on
// the real clock moved by the returned offsetClock.
func each(t *testing.T, cfg oidcp.Config, fn func(t *testing.T, r *rig, clock *offsetClock)) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		clock := &offsetClock{}
		db.Now = clock.Now
		fn(t, startRoster(t, db, cfg), clock)
	})
}

// webClient registers the relying party as a confidential web client (as Moodle is).
func webClient(r *rig, p *rp, extra ...string) (*oidcp.Client, string) {
	return r.client(oidcp.ClientInput{Name: ptr("Moodle"), RedirectURIs: ptr([]string{p.RedirectURI()}),
		PostLogoutRedirectURIs: ptr([]string{p.Base + "/bye"}), GrantTypes: ptr([]string{oidcp.GrantCode, oidcp.GrantRefresh}),
		Scopes: ptr(append([]string{"openid", "profile", "email", "offline_access"}, extra...))})
}

// TestBrowserLogin: in Chromium, a relying party built from coreos/go-oidc and x/oauth2
// sends the person to Roster, who logs in on Roster's own login page and comes back to the
// relying party with an ID token and userinfo naming them; max_age and prompt=login make
// them log in again, and auth_time says when they did. On both databases.
func TestBrowserLogin(t *testing.T) {
	each(t, oidcp.Config{}, func(t *testing.T, r *rig, clock *offsetClock) {
		ada := r.user("ada", "Ada", "Lovelace", "ada@example.org", "fr", false)
		p, ln := newRP(t)
		c, sec := webClient(r, p)
		p.start(ln, r.Base, c.ClientID, sec, []string{"openid", "profile", "email"})

		ctx := testenv.Browser(t)
		err := chromedp.Do(ctx,
			chromedp.Navigate(p.Base+"/start"),
			chromedp.WaitVisible(`#login`),
			chromedp.SendKeys(`#login`, "ada"),
			chromedp.SendKeys(`#password`, "a long test passphrase"),
			chromedp.Click(`#login-submit`),
			chromedp.WaitVisible(`#who`),
		)
		if err != nil {
			t.Fatalf("login in Chromium: %v", err)
		}
		text := testenv.Text(t, ctx, `#who`)
		sub := strconv.FormatInt(ada.ID, 10)
		if text != sub+" ada@example.org Ada Lovelace" {
			t.Errorf("the relying party shows %q", text)
		}
		if p.IDToken.Subject != sub || p.IDToken.Issuer != r.Base {
			t.Errorf("ID token sub %q iss %q", p.IDToken.Subject, p.IDToken.Issuer)
		}
		for k, want := range map[string]any{"email": "ada@example.org", "email_verified": false, "given_name": "Ada",
			"family_name": "Lovelace", "name": "Ada Lovelace", "locale": "fr"} {
			if p.Info[k] != want {
				t.Errorf("userinfo %s = %v, want %v", k, p.Info[k], want)
			}
			if p.Claims[k] != want {
				t.Errorf("ID token %s = %v, want %v", k, p.Claims[k], want)
			}
		}
		// A second login goes straight through: Roster's session is there, no consent screen.
		err = chromedp.Do(ctx, chromedp.Navigate(p.Base+"/start"), chromedp.WaitVisible(`#who`))
		if err != nil {
			t.Fatalf("second login: %v", err)
		}
		firstAuth := p.authTime()
		if now := clock.Now().Unix(); firstAuth == 0 || firstAuth > now || firstAuth < now-60 {
			t.Errorf("auth_time %d, now %d", firstAuth, now)
		}
		// Ten minutes later: max_age=3600 goes straight through, with the first login's
		// auth_time; max_age=300 and prompt=login ask for the password again, and the new
		// login is the new auth_time.
		clock.Skip(10 * time.Minute)
		relogin := func(query string) {
			t.Helper()
			start := clock.Now().Unix()
			err := chromedp.Do(ctx,
				chromedp.Navigate(p.Base+"/start?"+query),
				chromedp.WaitVisible(`#password`),
				chromedp.SetValue(`#login`, "ada"),
				chromedp.SendKeys(`#password`, "a long test passphrase"),
				chromedp.Click(`#login-submit`),
				chromedp.WaitVisible(`#who`),
			)
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			if at := p.authTime(); at < start {
				t.Errorf("%s: auth_time %d, before the request (%d)", query, at, start)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(p.Base+"/start?max_age=3600"), chromedp.WaitVisible(`#who`)); err != nil {
			t.Fatalf("max_age=3600: %v", err)
		}
		if at := p.authTime(); at != firstAuth {
			t.Errorf("max_age=3600: auth_time %d, want %d", at, firstAuth)
		}
		relogin("max_age=300")
		clock.Skip(time.Minute)
		relogin("prompt=login")
	})
}

// authTime is the auth_time claim of the last ID token.
func (p *rp) authTime() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, _ := p.Claims["auth_time"].(float64)
	return int64(f)
}

// loginCode runs the code flow for a logged-in person without a browser and returns the code
// (or fails).
func loginCode(t *testing.T, r *rig, sess *http.Client, q url.Values) string {
	t.Helper()
	loc, status, body := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+q.Encode())
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %v, %d %s", loc, status, body)
	}
	if loc.Query().Get("state") != q.Get("state") {
		t.Fatalf("state %q", loc.Query().Get("state"))
	}
	return loc.Query().Get("code")
}

func authQuery(clientID, redirect, challenge string, scopes ...string) url.Values {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {strings.Join(append([]string{"openid"}, scopes...), " ")}, "state": {"st-" + random()}, "nonce": {random()}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return q
}

// TestCodeFlowRefused: the refused cases of the code flow, each checked: a wrong redirect
// URI, a reused code, a PKCE mismatch, a public client without PKCE, a wrong client secret, and
// the tokens, codes and clients of another Roster site.
func TestCodeFlowRefused(t *testing.T) {
	each(t, oidcp.Config{}, func(t *testing.T, r *rig, clock *offsetClock) {
		ada := r.user("ada", "Ada", "Lovelace", "ada@example.org", "", false)
		sess := r.session(ada)
		redirect := "https://moodle.example.org/admin/oauth2callback.php"
		c, sec := r.client(oidcp.ClientInput{Name: ptr("Moodle"), RedirectURIs: ptr([]string{redirect})})
		exchange := func(id, secret, code, verifier string) (int, map[string]any) {
			f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
			if verifier != "" {
				f.Set("code_verifier", verifier)
			}
			if secret == "" {
				f.Set("client_id", id)
				id = ""
			}
			return tokenCall(t, r.Base, id, secret, f)
		}

		t.Run("wrong redirect URI", func(t *testing.T) {
			loc, status, _ := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+authQuery(c.ClientID, "https://evil.example.org/cb", "").Encode())
			if loc != nil || status != http.StatusBadRequest {
				t.Errorf("sent to %v with %d; want a 400 page at Roster", loc, status)
			}
			// Nor a registered one with something appended.
			loc, _, _ = r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+authQuery(c.ClientID, redirect+"?x=1", "").Encode())
			if loc != nil {
				t.Errorf("sent to %v", loc)
			}
		})
		t.Run("prompt=none without a session", func(t *testing.T) {
			q := authQuery(c.ClientID, redirect, "")
			q.Set("prompt", "none")
			loc, _, body := r.authorize(r.session(nil), r.Base+oidcp.PathAuthorize+"?"+q.Encode())
			if loc == nil || loc.Query().Get("error") != "login_required" || loc.Query().Get("code") != "" {
				t.Errorf("sent to %v (%s)", loc, body)
			}
			// Without prompt=none: Roster's login page.
			q.Del("prompt")
			resp, err := r.session(nil).Get(r.Base + oidcp.PathAuthorize + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			l, _ := url.Parse(resp.Header.Get("Location"))
			if l == nil || !strings.HasPrefix(l.Path, oidcp.PathLogin) {
				t.Errorf("sent to %v", l)
			}
		})
		t.Run("prompt=none with too old a login", func(t *testing.T) {
			clock.Skip(2 * time.Minute)
			q := authQuery(c.ClientID, redirect, "")
			q.Set("prompt", "none")
			q.Set("max_age", "60")
			loc, _, body := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+q.Encode())
			if loc == nil || loc.Query().Get("error") != "login_required" || loc.Query().Get("code") != "" {
				t.Errorf("max_age=60 after 2 minutes: sent to %v (%s)", loc, body)
			}
			q.Set("max_age", "600")
			q.Set("state", "st-"+random())
			if loc, _, body := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+q.Encode()); loc == nil || loc.Query().Get("code") == "" {
				t.Errorf("max_age=600 after 2 minutes: sent to %v (%s)", loc, body)
			}
		})
		t.Run("reused code", func(t *testing.T) {
			code := loginCode(t, r, sess, authQuery(c.ClientID, redirect, ""))
			st, out := exchange(c.ClientID, sec, code, "")
			if st != 200 || out["id_token"] == nil {
				t.Fatalf("first exchange: %d %v", st, out)
			}
			access, _ := out["access_token"].(string)
			if st := userinfo(t, r.Base, access); st != 200 {
				t.Fatalf("userinfo: %d", st)
			}
			if st, out := exchange(c.ClientID, sec, code, ""); st != 400 || out["error"] != "invalid_grant" {
				t.Errorf("second exchange: %d %v", st, out)
			}
			// The replay revokes what the code gave: someone else holds it.
			if st := userinfo(t, r.Base, access); st == 200 {
				t.Errorf("userinfo after the code was replayed: %d", st)
			}
		})
		t.Run("PKCE mismatch", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			code := loginCode(t, r, sess, authQuery(c.ClientID, redirect, oauth2.S256ChallengeFromVerifier(v)))
			if st, out := exchange(c.ClientID, sec, code, oauth2.GenerateVerifier()); st != 400 || out["error"] != "invalid_grant" {
				t.Errorf("wrong verifier: %d %v", st, out)
			}
			// The code is used up by the failed attempt.
			if st, _ := exchange(c.ClientID, sec, code, v); st != 400 {
				t.Errorf("right verifier after a wrong one: %d", st)
			}
		})
		t.Run("public client needs PKCE", func(t *testing.T) {
			pub, _ := r.client(oidcp.ClientInput{Name: ptr("App"), Public: ptr(true), RedirectURIs: ptr([]string{"http://127.0.0.1/cb"})})
			code := loginCode(t, r, sess, url.Values(authQuery(pub.ClientID, "http://127.0.0.1/cb", "")))
			f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/cb"}, "client_id": {pub.ClientID}}
			if st, out := tokenCall(t, r.Base, "", "", f); st == 200 {
				t.Errorf("public client without PKCE got tokens: %v", out)
			}
			v := oauth2.GenerateVerifier()
			code = loginCode(t, r, sess, authQuery(pub.ClientID, "http://127.0.0.1/cb", oauth2.S256ChallengeFromVerifier(v)))
			f.Set("code", code)
			f.Set("code_verifier", v)
			if st, out := tokenCall(t, r.Base, "", "", f); st != 200 {
				t.Errorf("public client with PKCE: %d %v", st, out)
			}
			// plain is refused.
			q := authQuery(pub.ClientID, "http://127.0.0.1/cb", v)
			q.Set("code_challenge_method", "plain")
			if loc, _, _ := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+q.Encode()); loc == nil || loc.Query().Get("code") != "" {
				t.Errorf("plain PKCE: %v", loc)
			}
		})
		t.Run("wrong client secret", func(t *testing.T) {
			code := loginCode(t, r, sess, authQuery(c.ClientID, redirect, ""))
			if st, out := exchange(c.ClientID, sec+"x", code, ""); st != 401 || out["error"] != "invalid_client" {
				t.Errorf("wrong secret: %d %v", st, out)
			}
			if st, out := exchange(c.ClientID, "", code, ""); st == 200 {
				t.Errorf("no secret: %d %v", st, out)
			}
		})
		t.Run("another site", func(t *testing.T) {
			db2, _ := storetest.OpenSQLite(t)
			db2.Now = time.Now
			other := startRoster(t, db2, oidcp.Config{})
			eve := other.user("ada", "Ada", "Other", "ada@example.org", "", false)
			oc, osec := other.client(oidcp.ClientInput{Name: ptr("Moodle"), RedirectURIs: ptr([]string{redirect}),
				GrantTypes: ptr([]string{oidcp.GrantCode, oidcp.GrantClientCredentials}), Scopes: ptr([]string{oidcp.ScopeRosterReadonly})})
			// Its client is unknown here.
			if loc, status, _ := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+authQuery(oc.ClientID, redirect, "").Encode()); loc != nil || status != 400 {
				t.Errorf("other site's client: %v %d", loc, status)
			}
			if st, _ := tokenCall(t, r.Base, oc.ClientID, osec, url.Values{"grant_type": {"client_credentials"}}); st != 401 {
				t.Errorf("other site's client credentials: %d", st)
			}
			// Its code is not a code here, even for a client of the same id here.
			code := loginCode(t, other, other.session(eve), authQuery(oc.ClientID, redirect, ""))
			if st, out := exchange(c.ClientID, sec, code, ""); st != 400 || out["error"] != "invalid_grant" {
				t.Errorf("other site's code: %d %v", st, out)
			}
			// Its access token is not a token here.
			_, out := tokenCall(t, other.Base, oc.ClientID, osec, url.Values{"grant_type": {"client_credentials"}})
			tok, _ := out["access_token"].(string)
			if tok == "" {
				t.Fatalf("other site's token: %v", out)
			}
			if _, err := other.OP.VerifyAccessToken(context.Background(), tok); err != nil {
				t.Fatalf("the other site refuses its own token: %v", err)
			}
			if _, err := r.OP.VerifyAccessToken(context.Background(), tok); !errs.Is(err, errs.Unauthorized) {
				t.Errorf("other site's token: %v", err)
			}
			if st := userinfo(t, r.Base, tok); st != 401 {
				t.Errorf("other site's token at userinfo: %d", st)
			}
		})
	})
}

func userinfo(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+oidcp.PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestTokens: refresh tokens rotate (the used one is refused), an expired access token is
// refused at userinfo, RP-initiated logout ends the Roster session, and the groups and roles
// claims only for a client registered for them.
func TestTokens(t *testing.T) {
	each(t, oidcp.Config{}, func(t *testing.T, r *rig, clock *offsetClock) {
		ada := r.user("ada", "Ada", "Lovelace", "ada@example.org", "", false)
		sess := r.session(ada)
		p, ln := newRP(t)
		c, sec := webClient(r, p)
		p.start(ln, r.Base, c.ClientID, sec, []string{"openid", "profile", "email", "offline_access", "groups"})
		loc, _, body := r.authorize(sess, r.Base+oidcp.PathAuthorize+"?"+mustQuery(t, p.authURL()))
		if loc == nil {
			t.Fatalf("no redirect: %s", body)
		}
		if err := p.finish(context.Background(), loc.Query()); err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Info["groups"]; ok {
			t.Errorf("groups claim for a client not registered for it: %v", p.Info)
		}
		if p.Tokens.RefreshToken == "" {
			t.Fatal("no refresh token with offline_access")
		}

		// Refresh: new tokens; the old refresh token is used up.
		old := p.Tokens.RefreshToken
		refresh := func(rt string) (int, map[string]any) {
			return tokenCall(t, r.Base, c.ClientID, sec, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		}
		st, out := refresh(old)
		if st != 200 || out["refresh_token"] == nil || out["refresh_token"] == old || out["access_token"] == nil {
			t.Fatalf("refresh: %d %v", st, out)
		}
		if st, _ := refresh(old); st != 400 {
			t.Errorf("a used refresh token: %d", st)
		}
		access := out["access_token"].(string)
		if st := userinfo(t, r.Base, access); st != 200 {
			t.Errorf("userinfo with the refreshed token: %d", st)
		}
		// The access token of before the refresh is gone with its refresh token.
		if st := userinfo(t, r.Base, p.Tokens.AccessToken); st != 401 && st != 403 {
			t.Errorf("userinfo with the replaced token: %d", st)
		}

		// Expiry: an hour and a bit later the access token is refused.
		clock.Skip(61 * time.Minute)
		if st := userinfo(t, r.Base, access); st != 401 && st != 403 {
			t.Errorf("userinfo with an expired token: %d", st)
		}
		clock.Skip(-61 * time.Minute)

		// RP-initiated logout ends the Roster session and goes to the registered URI.
		idToken, _ := out["id_token"].(string)
		q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {p.Base + "/bye"}, "state": {"s1"}}
		resp, err := sess.Get(r.Base + oidcp.PathEndSess + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); !strings.HasPrefix(got, p.Base+"/bye") {
			t.Errorf("logout sent to %q (%d)", got, resp.StatusCode)
		}
		resp, err = sess.Get(r.Base + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("after logout /api/v1/me answers %d", resp.StatusCode)
		}
		// An unregistered post-logout URI is refused.
		q.Set("post_logout_redirect_uri", "https://evil.example.org/")
		resp, err = r.session(ada).Get(r.Base + oidcp.PathEndSess + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if strings.Contains(resp.Header.Get("Location"), "evil") {
			t.Errorf("logout sent to %q", resp.Header.Get("Location"))
		}

		// Registered for groups: the claim comes.
		if _, err := r.OP.UpdateClient(admin(), c.ID, oidcp.ClientInput{Scopes: ptr([]string{"groups"})}); err != nil {
			t.Fatal(err)
		}
		loc, _, _ = r.authorize(r.session(ada), r.Base+oidcp.PathAuthorize+"?"+mustQuery(t, p.authURL()))
		if err := p.finish(context.Background(), loc.Query()); err != nil {
			t.Fatal(err)
		}
		if g, ok := p.Info["groups"].([]any); !ok || len(g) != 0 {
			t.Errorf("groups claim: %#v", p.Info["groups"])
		}
	})
}

func mustQuery(t *testing.T, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.RawQuery
}

// TestClientCredentials: a client registered for the grant gets a token, which
// VerifyAccessToken maps to the client, its group and scopes; a client without the grant,
// a wrong secret and an unregistered scope are refused; the token expires.
func TestClientCredentials(t *testing.T) {
	each(t, oidcp.Config{}, func(t *testing.T, r *rig, clock *offsetClock) {
		var gid int64
		err := r.DB.Tx(admin(), func(tx *store.Tx) error {
			return tx.QueryRowContext(admin(), `INSERT INTO groups (name, created_at, updated_at) VALUES ('Lycée', 0, 0) RETURNING id`).Scan(&gid)
		})
		if err != nil {
			t.Fatal(err)
		}
		cc, sec := r.client(oidcp.ClientInput{Name: ptr("Rostering"), GrantTypes: ptr([]string{oidcp.GrantClientCredentials}),
			Scopes: ptr([]string{oidcp.ScopeRosterReadonly, oidcp.ScopeRosterCoreReadonly}), GroupID: ptr(gid)})
		web, wsec := r.client(oidcp.ClientInput{Name: ptr("Moodle"), RedirectURIs: ptr([]string{"https://m.example.org/cb"})})

		st, out := tokenCall(t, r.Base, cc.ClientID, sec, url.Values{"grant_type": {"client_credentials"}, "scope": {oidcp.ScopeRosterCoreReadonly}})
		tok, _ := out["access_token"].(string)
		if st != 200 || tok == "" || out["token_type"] != "Bearer" {
			t.Fatalf("client credentials: %d %v", st, out)
		}
		g, err := r.OP.VerifyAccessToken(context.Background(), tok)
		if err != nil || g.ClientID != cc.ClientID || g.GroupID != gid || !slices.Equal(g.Scopes, []string{oidcp.ScopeRosterCoreReadonly}) {
			t.Errorf("VerifyAccessToken: %+v %v", g, err)
		}
		// No scope asked: all the registered ones.
		_, out = tokenCall(t, r.Base, cc.ClientID, sec, url.Values{"grant_type": {"client_credentials"}})
		if g, err := r.OP.VerifyAccessToken(context.Background(), out["access_token"].(string)); err != nil || len(g.Scopes) != 2 {
			t.Errorf("all scopes: %+v %v", g, err)
		}
		if st, out := tokenCall(t, r.Base, cc.ClientID, sec, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}); st == 200 {
			t.Errorf("unregistered scope: %v", out)
		}
		if st, out := tokenCall(t, r.Base, web.ClientID, wsec, url.Values{"grant_type": {"client_credentials"}}); st == 200 || out["error"] != "unauthorized_client" {
			t.Errorf("client without the grant: %d %v", st, out)
		}
		if st, _ := tokenCall(t, r.Base, cc.ClientID, "wrong", url.Values{"grant_type": {"client_credentials"}}); st != 401 {
			t.Errorf("wrong secret: %d", st)
		}
		for _, bad := range []string{"", "garbage", tok + "x"} {
			if _, err := r.OP.VerifyAccessToken(context.Background(), bad); !errs.Is(err, errs.Unauthorized) {
				t.Errorf("VerifyAccessToken(%q): %v", bad, err)
			}
		}
		// A new secret revokes the tokens.
		clock.Skip(61 * time.Minute)
		if _, err := r.OP.VerifyAccessToken(context.Background(), tok); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("expired token: %v", err)
		}
		clock.Skip(-61 * time.Minute)
		if _, _, err := r.OP.NewSecret(admin(), cc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.OP.VerifyAccessToken(context.Background(), tok); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("token after a new secret: %v", err)
		}
	})
}

// TestDiscoveryAndKeys: discovery names the issuer and the endpoints; after a rotation the
// JWKS publishes both keys, new tokens are signed with the new key and the old ID tokens
// still verify.
func TestDiscoveryAndKeys(t *testing.T) {
	each(t, oidcp.Config{}, func(t *testing.T, r *rig, _ *offsetClock) {
		var d map[string]any
		getJSON(t, r.Base+"/.well-known/openid-configuration", &d)
		for k, want := range map[string]string{"issuer": r.Base, "authorization_endpoint": r.Base + oidcp.PathAuthorize,
			"token_endpoint": r.Base + oidcp.PathToken, "userinfo_endpoint": r.Base + oidcp.PathUserinfo,
			"jwks_uri": r.Base + oidcp.PathKeys, "end_session_endpoint": r.Base + oidcp.PathEndSess} {
			if d[k] != want {
				t.Errorf("discovery %s = %v, want %s", k, d[k], want)
			}
		}
		if m, _ := d["code_challenge_methods_supported"].([]any); !slices.Contains(m, any("S256")) {
			t.Errorf("code_challenge_methods_supported = %v", d["code_challenge_methods_supported"])
		}
		var jwks struct {
			Keys []struct {
				Kid string `json:"kid"`
				Alg string `json:"alg"`
			} `json:"keys"`
		}
		getJSON(t, r.Base+oidcp.PathKeys, &jwks)
		if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "RS256" {
			t.Fatalf("jwks: %+v", jwks)
		}
		first := jwks.Keys[0].Kid
		// The private key is sealed with the site's secret key.
		var stored string
		if err := r.DB.QueryRowContext(context.Background(), `SELECT private_pem FROM oidc_keys`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, "sealed:") || strings.Contains(stored, "PRIVATE KEY") {
			t.Errorf("stored key %.40q...", stored)
		}

		ada := r.user("ada", "Ada", "Lovelace", "ada@example.org", "", false)
		p, ln := newRP(t)
		c, sec := webClient(r, p)
		p.start(ln, r.Base, c.ClientID, sec, []string{"openid"})
		loc, _, _ := r.authorize(r.session(ada), r.Base+oidcp.PathAuthorize+"?"+mustQuery(t, p.authURL()))
		if err := p.finish(context.Background(), loc.Query()); err != nil {
			t.Fatal(err)
		}
		oldID := p.Tokens.Extra("id_token").(string)

		kid, err := r.OP.RotateKey(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		getJSON(t, r.Base+oidcp.PathKeys, &jwks)
		if len(jwks.Keys) != 2 || jwks.Keys[0].Kid != kid || jwks.Keys[1].Kid != first {
			t.Fatalf("jwks after rotation: %+v", jwks)
		}
		if _, err := p.verifier.Verify(context.Background(), oldID); err != nil {
			t.Errorf("an ID token of the old key: %v", err)
		}
		loc, _, _ = r.authorize(r.session(ada), r.Base+oidcp.PathAuthorize+"?"+mustQuery(t, p.authURL()))
		if err := p.finish(context.Background(), loc.Query()); err != nil {
			t.Fatal(err)
		}
		hdr, _, _ := strings.Cut(p.Tokens.Extra("id_token").(string), ".")
		if !strings.Contains(decodeSeg(t, hdr), `"kid":"`+kid+`"`) {
			t.Errorf("new ID token header %s, want kid %s", decodeSeg(t, hdr), kid)
		}
	})
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func decodeSeg(t *testing.T, s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClientsAPI: POST /api/v1/oidc/clients answers 201 with the secret, which no other
// answer repeats; PATCH changes, validation errors name the field, DELETE removes; a person
// who is not a platform administrator is refused.
func TestClientsAPI(t *testing.T) {
	each(t, oidcp.Config{}, func(t *testing.T, r *rig, _ *offsetClock) {
		adm := r.session(r.user("root", "Ada", "Admin", "root@example.org", "", true))
		someone := r.session(r.user("ada", "Ada", "Lovelace", "ada@example.org", "", false))
		call := func(c *http.Client, method, path, body string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest(method, r.Base+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		body := `{"name":"Moodle","redirect_uris":["https://moodle.example.org/admin/oauth2callback.php"],
			"grant_types":["authorization_code","refresh_token"],"scopes":["openid","profile","email"],
			"post_logout_redirect_uris":[],"group_id":0}`
		if st, _ := call(someone, "POST", "/api/v1/oidc/clients", body); st != 403 {
			t.Errorf("create as a learner: %d", st)
		}
		st, out := call(adm, "POST", "/api/v1/oidc/clients", body)
		if st != 201 || out["client_secret"] == "" || out["client_id"] == "" || out["id"] == "" {
			t.Fatalf("create: %d %v", st, out)
		}
		id := out["id"].(string)
		st, out = call(adm, "GET", "/api/v1/oidc/clients/"+id, "")
		if st != 200 || out["client_secret"] != nil || out["name"] != "Moodle" {
			t.Errorf("get: %d %v", st, out)
		}
		st, out = call(adm, "GET", "/api/v1/oidc/clients", "")
		if items, _ := out["items"].([]any); st != 200 || len(items) != 1 {
			t.Errorf("list: %d %v", st, out)
		}
		st, out = call(adm, "PATCH", "/api/v1/oidc/clients/"+id, `{"redirect_uris":["moodle"]}`)
		if st != 422 || !strings.Contains(fmt_(out), "redirect_uris") {
			t.Errorf("bad patch: %d %v", st, out)
		}
		st, out = call(adm, "PATCH", "/api/v1/oidc/clients/"+id, `{"name":"Moodle 2"}`)
		if st != 200 || out["name"] != "Moodle 2" {
			t.Errorf("patch: %d %v", st, out)
		}
		st, out = call(adm, "POST", "/api/v1/oidc/clients/"+id+"/secret", "")
		if st != 200 || out["client_secret"] == "" {
			t.Errorf("new secret: %d %v", st, out)
		}
		if st, _ := call(adm, "DELETE", "/api/v1/oidc/clients/"+id, ""); st != 204 {
			t.Errorf("delete: %d", st)
		}
		if st, _ := call(adm, "GET", "/api/v1/oidc/clients/"+id, ""); st != 404 {
			t.Errorf("get after delete: %d", st)
		}
	})
}

func fmt_(v any) string { b, _ := json.Marshal(v); return string(b) }
