package mail

import (
	"sort"
	"time"
)

// Render renders m as it would be queued: for tests of other packages that read every email
// (for instance the test that looks for English in French emails).
func Render(m Message) (subject, text, html string, err error) {
	r, err := render(m)
	return r.Subject, r.Text, r.HTML, err
}

// SampleMessages returns one message of every template with realistic data, sorted by
// template name; TestSamplesCoverEveryTemplate keeps it complete.
func SampleMessages() []Message {
	link := "https://roster.example.org/lien/JETON"
	day := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	data := map[string]map[string]any{
		"password_reset": {"Username": "jmartin", "FirstName": "Jeanne", "Link": link, "TTL": 30 * time.Minute},
		"account_setup":  {"Username": "pgirard", "FirstName": "Paul", "Link": link},
		"invitation": {"InviterName": "Hélène Dubois", "Link": link, "PlatformName": "UPdago",
			"GroupNames": []string{"Agence de Lyon"}, "CourseName": "Langue vivante : anglais"},
		"email_changed":   {"OldEmail": "ancienne@univ.test", "NewEmail": "nouvelle@univ.test", "FirstName": "Louis"},
		"deletion_notice": {"Count": 3, "Date": day},
		"course_welcome":  {"FirstName": "Louis", "CourseName": "Langue vivante : anglais", "Link": link, "RoleName": "Étudiant"},
		"course_message": {"SenderName": "Jeanne Martin", "CourseName": "Langue vivante : anglais",
			"Subject": "Séance de jeudi", "Body": "La séance de jeudi a lieu en salle 12."},
	}
	var out []Message
	for name := range specs {
		out = append(out, Message{Template: name, To: "personne@univ.test", Data: data[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Template < out[j].Template })
	return out
}
