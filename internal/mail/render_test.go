package mail

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

// sampleData is data for each template, with a first name that must come out escaped in HTML.
func sampleData(name string) map[string]any {
	link := "https://roster.example.org/x/TOKEN_abc-123"
	switch name {
	case "password_reset":
		return map[string]any{"FirstName": "<b>x</b>", "Username": "jdoe", "Link": "https://roster.example.org/password/reset/TOKEN_abc-123", "TTL": 30 * time.Minute}
	case "account_setup":
		return map[string]any{"FirstName": "<b>x</b>", "Username": "jdoe", "Link": "https://roster.example.org/account/setup/TOKEN_abc-123"}
	case "invitation":
		return map[string]any{"InviterName": "<b>x</b>", "Link": "https://roster.example.org/invitation/TOKEN_abc-123",
			"PlatformName": "Campus", "GroupNames": []string{"Physics", "Lab A"}, "CourseName": "Optics"}
	case "email_changed":
		return map[string]any{"FirstName": "<b>x</b>", "OldEmail": "old@example.org", "NewEmail": "new@example.org"}
	case "deletion_notice":
		return map[string]any{"Count": 3, "Date": time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	case "course_welcome":
		return map[string]any{"FirstName": "<b>x</b>", "CourseName": "Optics & <i>Lab</i>", "Link": "https://roster.example.org/courses/42",
			"RoleName": "Student"}
	case "course_message":
		return map[string]any{"SenderName": "<b>x</b>", "CourseName": "Optics", "Subject": "Room change",
			"Body": "The lab moves to room B12.\n<script>alert(1)</script>"}
	}
	return map[string]any{"Link": link}
}

func TestRenderEveryTemplate(t *testing.T) {
	for name, sp := range specs {
		for _, lang := range languages {
			t.Run(lang+"/"+name, func(t *testing.T) {
				data := sampleData(name)
				r, err := render(Message{Template: name, To: "a@example.org", Language: lang, Data: data})
				if err != nil {
					t.Fatal(err)
				}
				if r.Language != lang {
					t.Errorf("language %q, want %q", r.Language, lang)
				}
				for part, s := range map[string]string{"subject": r.Subject, "text": r.Text, "html": r.HTML} {
					if strings.TrimSpace(s) == "" {
						t.Errorf("%s is empty", part)
					}
					if strings.Contains(s, "<no value>") || strings.Contains(s, "%!") {
						t.Errorf("%s has a missing value:\n%s", part, s)
					}
				}
				if strings.ContainsAny(r.Subject, "\r\n") {
					t.Errorf("subject on several lines: %q", r.Subject)
				}
				escaped := strings.Contains(r.HTML, "&lt;b&gt;x&lt;/b&gt;") && !strings.Contains(r.HTML, "<b>x</b>")
				if name != "deletion_notice" && !escaped { // deletion_notice holds no names
					t.Errorf("HTML does not escape the name:\n%s", r.HTML)
				}
				if !strings.Contains(r.HTML, `<html lang="`+lang+`">`) {
					t.Errorf("HTML not marked as %s", lang)
				}
				links := strings.Count(r.Text, "http://") + strings.Count(r.Text, "https://")
				hrefs := strings.Count(r.HTML, "href=")
				if !sp.link {
					if links != 0 || hrefs != 0 {
						t.Errorf("an email without action has %d links in text, %d in HTML", links, hrefs)
					}
					return
				}
				link := data["Link"].(string)
				if links != 1 || linesEqual(r.Text, link) != 1 {
					t.Errorf("text: want the link once, on its own line; got %d links:\n%s", links, r.Text)
				}
				if hrefs != 1 || !strings.Contains(r.HTML, `href="`+link+`"`) {
					t.Errorf("HTML: want one href to the link, got %d:\n%s", hrefs, r.HTML)
				}
			})
		}
	}
}

func TestRenderOptionalDataMayBeMissing(t *testing.T) {
	for _, lang := range languages {
		r, err := render(Message{Template: "invitation", Language: lang,
			Data: map[string]any{"InviterName": "Ann", "Link": "https://r.example.org/invitation/T"}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.Text, "<no value>") || strings.Contains(r.Text, "«  »") || strings.Contains(r.Text, `""`) {
			t.Errorf("%s:\n%s", lang, r.Text)
		}
	}
	r, err := render(Message{Template: "deletion_notice", Language: "fr", Data: map[string]any{"Count": 1, "Date": time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 compte sera supprimé le 1 août 2026"; r.Subject != want {
		t.Errorf("subject %q, want %q", r.Subject, want)
	}
	// French puts 0 in the singular, English in the plural (CLDR).
	for lang, want := range map[string]string{"fr": "0 compte sera supprimé le 1 août 2026", "en": "0 accounts will be deleted on August 1, 2026"} {
		r, err := render(Message{Template: "deletion_notice", Language: lang, Data: map[string]any{"Count": 0, "Date": time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != want {
			t.Errorf("%s subject %q, want %q", lang, r.Subject, want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		want string
	}{
		{"unknown template", Message{Template: "nope"}, "unknown template"},
		{"missing link", Message{Template: "account_setup", Data: map[string]any{"Username": "u"}}, `"Link"`},
		{"missing username", Message{Template: "password_reset", Data: map[string]any{"Link": "https://x.org/password/reset/T", "TTL": 30 * time.Minute}}, `"Username"`},
		{"relative link", Message{Template: "account_setup", Data: map[string]any{"Username": "u", "Link": "/account/setup/T"}}, "absolute"},
		{"javascript link", Message{Template: "account_setup", Data: map[string]any{"Username": "u", "Link": "javascript:alert(1)"}}, "absolute"},
		{"link in a mail without action", Message{Template: "email_changed", Data: map[string]any{"OldEmail": "a@x.org", "NewEmail": "b@x.org", "Link": "https://x.org/"}}, "no link"},
		{"link in a course message", Message{Template: "course_message", Data: map[string]any{"SenderName": "A", "CourseName": "C",
			"Subject": "S", "Body": "B", "Link": "https://x.org/"}}, "no link"},
		{"course welcome without course", Message{Template: "course_welcome", Data: map[string]any{"FirstName": "A",
			"Link": "https://x.org/courses/1"}}, `"CourseName"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLanguageFallback(t *testing.T) {
	for in, want := range map[string]string{"fr": "fr", "FR": "fr", "fr-CA": "fr", "fr_BE": "fr", "en": "en", "de": "en", "": "en", "french": "en"} {
		if got := language(in); got != want {
			t.Errorf("language(%q) = %q, want %q", in, got, want)
		}
	}
	r, err := render(Message{Template: "account_setup", Language: "de", Data: map[string]any{"Username": "u", "Link": "https://x.org/account/setup/T"}})
	if err != nil || r.Language != "en" || r.Subject != "An account was created for you" {
		t.Fatalf("%+v %v", r, err)
	}
}

// TestCatalog fails when a template lacks a file in a language, or a file has no template.
func TestCatalog(t *testing.T) {
	var want []string
	for name := range specs {
		for _, lang := range languages {
			want = append(want, lang+"/"+name+".txt", lang+"/"+name+".html")
		}
	}
	var got []string
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Dir(p) == "templates" {
			return err
		}
		got = append(got, strings.TrimPrefix(p, "templates/"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing template file %s", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("template file %s belongs to no template in specs", g)
		}
	}
	// Parsing every file of the catalog must not panic.
	if n := len(catalog()); n != len(specs)*len(languages) {
		t.Errorf("catalog has %d entries, want %d", n, len(specs)*len(languages))
	}
}

// TestResetDurationInWords: a reset link that works for 5 seconds says so, not "0 minutes".
func TestResetDurationInWords(t *testing.T) {
	for _, tc := range []struct {
		lang string
		ttl  time.Duration
		want string
	}{
		{"fr", 5 * time.Second, "pendant 5 secondes,"},
		{"en", 5 * time.Second, "for 5 seconds,"},
		{"fr", 30 * time.Minute, "pendant 30 minutes,"},
		{"en", time.Minute, "for 1 minute,"},
	} {
		r, err := render(Message{Template: "password_reset", Language: tc.lang,
			Data: map[string]any{"Username": "jdoe", "Link": "https://x.org/password/reset/T", "TTL": tc.ttl}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, tc.want) || !strings.Contains(r.HTML, tc.want) {
			t.Errorf("%s %v: %q", tc.lang, tc.ttl, r.Text)
		}
	}
}

// TestSamplesCoverEveryTemplate: SampleMessages has every template, each rendering in every
// language.
func TestSamplesCoverEveryTemplate(t *testing.T) {
	got := map[string]bool{}
	for _, m := range SampleMessages() {
		got[m.Template] = true
		for _, lang := range languages {
			m.Language = lang
			if _, err := render(m); err != nil {
				t.Errorf("%s/%s: %v", lang, m.Template, err)
			}
		}
	}
	for name := range specs {
		if !got[name] {
			t.Errorf("no sample of %s", name)
		}
	}
}
